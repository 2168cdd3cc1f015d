"""A small world for the diagnostics tests, on top of the shared personas (tests/conftest.py).

``World`` builds persons, households with members of given ages, consents for the purpose
"prevencion", section entries and enrolments, always relative to today, and runs the
sweep. Thresholds that come from reference tables (poverty, IMV) are pinned for the
current year by ``pinned_thresholds`` so that boundaries are computed by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Household, HouseholdMember, Person, ReferenceProfessional
from consent.purposes import Purpose
from diagnostics.models import Alert, AlertRule
from diagnostics.services import alerts_evaluate, rule_hits
from ris.accounts.models import Organisation, ServiceKind, User
from ris.reference.models import MinimumIncomeThreshold, PovertyThreshold
from tests.factories import (
    ConsentFactory,
    HouseholdFactory,
    PersonFactory,
    enrol,
    make_section_entry,
)

PREVENTION = Purpose.PREVENTION.value

#: Pinned for the current year: single-person poverty threshold and IMV guaranteed income.
POVERTY_THRESHOLD = Decimal("12000.00")
IMV_MONTHLY = {
    1: Decimal("700.00"),
    2: Decimal("910.00"),
    3: Decimal("1120.00"),
    4: Decimal("1330.00"),
    5: Decimal("1540.00"),
}


def today() -> dt.date:
    return timezone.localdate()


def born(age: int, *, days_after_birthday: int = 10) -> dt.date:
    """A birth date giving ``age`` today (a few days past the birthday)."""
    t = today() - dt.timedelta(days=days_after_birthday)
    try:
        return t.replace(year=t.year - age)
    except ValueError:  # 29 February
        return t.replace(year=t.year - age, day=28)


@pytest.fixture
def pinned_thresholds(db):
    year = today().year
    PovertyThreshold.objects.update_or_create(
        survey_year=year,
        defaults={
            "income_year": year - 1,
            "one_person_eur_year": POVERTY_THRESHOLD,
            "two_adults_two_children_eur_year": POVERTY_THRESHOLD * Decimal("2.1"),
            "source": "test",
        },
    )
    for members, amount in IMV_MONTHLY.items():
        MinimumIncomeThreshold.objects.update_or_create(
            year=year,
            members=members,
            defaults={"monthly_eur": amount, "source": "test"},
        )
    return year


@dataclass
class World:
    social: Organisation
    employment: Organisation
    ngo: Organisation
    social_worker: User
    employment_counsellor: User
    ngo_technician: User

    def person(
        self, *, age: int = 40, attended_by=("social",), professionals: bool = True, **extra
    ) -> Person:
        person = PersonFactory(birth_date=born(age), **extra)
        for key in attended_by:
            organisation = getattr(self, key)
            enrol(person, organisation)
            if professionals:
                ReferenceProfessional.objects.create(
                    person=person, organisation=organisation, professional=self.professional_of(key)
                )
        return person

    def professional_of(self, key: str) -> User:
        return {
            "social": self.social_worker,
            "employment": self.employment_counsellor,
            "ngo": self.ngo_technician,
        }[key]

    def household(
        self,
        members: list[tuple[Person | int, int | None]],
        *,
        monthly_income=None,
        deprivation: list[str] = (),
    ) -> Household:
        """Members as (person or age, months worked last year); the first is the holder."""
        household = HouseholdFactory(monthly_income=monthly_income)
        for position, (who, months) in enumerate(members):
            person = who if isinstance(who, Person) else PersonFactory(birth_date=born(who))
            HouseholdMember.objects.create(
                household=household,
                person=person,
                relationship=HouseholdMember.Relationship.HOLDER
                if position == 0
                else HouseholdMember.Relationship.CHILD,
                start_date=today() - dt.timedelta(days=400),
                months_worked_last_year=months,
            )
        if deprivation:
            household.deprivation_items.set(deprivation)
        return household

    def consent(self, person: Person, *, services=None, purposes=(PREVENTION,), **extra):
        return ConsentFactory(
            person=person,
            grantee_services=list(services or ServiceKind.values),
            purposes=list(purposes),
            recorded_by=self.social_worker,
            recorded_by_org=self.social,
            **extra,
        )

    def entry(self, model, person: Person, *, by: str | None = None, **values):
        organisation = getattr(self, by) if by else None
        return make_section_entry(model, person=person, organisation=organisation, **values)


@pytest.fixture
def world(
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
    employment_counsellor,
    ngo_technician,
) -> World:
    return World(
        social_services_centre,
        employment_office,
        ngo,
        social_worker,
        employment_counsellor,
        ngo_technician,
    )


def rule(code: str) -> AlertRule:
    return AlertRule.objects.get(code=code)


def fires(code: str, person: Person, **kwargs) -> bool:
    """Whether the rule fires for the person, through the per-person query."""
    return person.pk in rule_hits(rule(code), person_ids=[person.pk], **kwargs)


def fires_in_sweep(code: str, person: Person) -> bool:
    """Whether the whole-population query finds the person too."""
    return person.pk in rule_hits(rule(code))


def sweep(*codes: str, **kwargs):
    return alerts_evaluate(codes=list(codes) or None, **kwargs)


def open_alerts(code: str, person: Person):
    return Alert.objects.filter(rule__code=code, person=person, state__in=["open", "acknowledged"])
