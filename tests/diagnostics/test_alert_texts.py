"""An alert shown to a user never contains a value of a category that user sees as an
indicator or not at all — for every rule and every role that reads alerts.

Two persons for whom every rule fires, with distinctive values: one has a reference
professional in each organisation that attends them (personal deliveries), the other
has none at social services (the centre's queue, read by its social worker and its
coordinator) and an unemployment benefit restricted by the employment office (origin
block). The world is built in three consent states. Each user's levels are computed
here, independently, with ``sharing.policy.load_facts`` and ``decide``; every value of
every category below full must be absent from every text the user is shown.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.utils import timezone

from cases.models import (
    DiaryEntry,
    ExclusionSituation,
    JobSeekerRecord,
    PlannedService,
    ReferenceProfessional,
    UnemploymentBenefit,
)
from consent.purposes import Purpose
from diagnostics.models import ExclusionLevel
from diagnostics.rules import RULES
from diagnostics.selectors import inbox_for
from diagnostics.services import rule_hits
from diagnostics.text import fmt_date, fmt_eur
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from ris.reference.models import AutonomousCommunity, BasicSocialService
from sharing.models import Enrolment, SharingAgreement
from sharing.policy import FULL, decide, load_facts, min_level, source_services
from tests.factories import OrganisationFactory, make_section_entry

from .conftest import PREVENTION, rule, sweep, today

pytestmark = pytest.mark.django_db

READERS = ("social_worker", "employment_counsellor", "ngo_technician", "coordinator")
INCOME = Decimal("612.34")


def _referral_model():
    try:
        return apps.get_model("coordination", "Referral")
    except LookupError:
        return None


def _at_risk_person(world, *, social_professional: bool, restricted_benefit: bool, consent: str):
    person = world.person(attended_by=("social", "employment", "ngo"), professionals=False)
    for key in ("social", "employment", "ngo"):
        if key != "social" or social_professional:
            ReferenceProfessional.objects.create(
                person=person,
                organisation=getattr(world, key),
                professional=world.professional_of(key),
            )
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.household([(person, 0), (8, None), (15, None)], monthly_income=INCOME)
    world.entry(
        UnemploymentBenefit,
        person,
        by="employment",
        kind="assistance",
        monthly_amount=INCOME,
        start_date=today() - dt.timedelta(days=500),
        end_date=today() + dt.timedelta(days=37),
        restricted=restricted_benefit,
    )
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - relativedelta(months=19, days=3),
    )
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="risk",
        assessed_on=today() - dt.timedelta(days=211),
    )
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="severe",
        assessed_on=today() - dt.timedelta(days=6),
    )
    world.entry(
        DiaryEntry,
        person,
        by="social",
        kind="interview",
        happened_at=timezone.now() - dt.timedelta(days=137),
    )
    for organisation in (world.social, OrganisationFactory()):
        make_section_entry(
            PlannedService,
            person=person,
            organisation=organisation,
            basic_service=BasicSocialService.objects.get(pk=2),
            start_date=today() - dt.timedelta(days=50),
        )
    expiring = {
        "valid_from": today() - dt.timedelta(days=300),
        "given_on": today() - dt.timedelta(days=300),
        "valid_until": today() + dt.timedelta(days=23),
    }
    if consent == "all":
        world.consent(person, **expiring)
    elif consent == "no_economy":
        world.consent(
            person, denied_categories=["situacion_economica", "prestaciones_estatales"], **expiring
        )
    else:  # a consent that does not cover prevention: the consent rule fires, nothing is shared
        world.consent(person, purposes=(Purpose.FOLLOW_UP.value,), **expiring)
    Referral = _referral_model()
    if Referral is not None:
        Referral.objects.create(
            person=person,
            from_organisation=world.social,
            to_organisation=world.employment,
            reason="Orientación",
            categories=["ficha_basica"],
            sent_at=timezone.now() - dt.timedelta(days=40),
            sent_by=world.social_worker,
        )
    return person


def build_scenario(world, coordinator, state: str):
    SharingAgreement.objects.create(
        organisation=world.ngo,
        title="Convenio",
        community=AutonomousCommunity.objects.get(code="07"),
        categories=[
            "unidad_convivencia",
            "exclusion_social",
            "atenciones",
            "servicios_planificados",
        ],
        purposes=[PREVENTION],
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=90),
        processing_terms="art. 28 RGPD",
    )
    persons = [
        _at_risk_person(world, social_professional=True, restricted_benefit=False, consent=state),
        _at_risk_person(world, social_professional=False, restricted_benefit=True, consent=state),
    ]
    sweep()
    users = {
        "social_worker": world.social_worker,
        "employment_counsellor": world.employment_counsellor,
        "ngo_technician": world.ngo_technician,
        "coordinator": coordinator,
    }
    return state, persons, users


@pytest.fixture(params=["all", "no_economy", "none"])
def scenario(request, world, coordinator, pinned_thresholds):
    return build_scenario(world, coordinator, request.param)


def value_strings(value) -> set[str]:
    """The ways a fact value could appear in a Spanish text."""
    if value is None or isinstance(value, bool):
        return set()
    if isinstance(value, dict):
        return set().union(set(), *(value_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(value_strings(v) for v in value))
    if isinstance(value, int):
        out = {
            f": {value}.",
            f"({value} ",
            f" {value} días",
            f" {value} meses",
            f"{value} miembros",
        }
        return out | ({str(value)} if value >= 1000 else set())
    if isinstance(value, float | Decimal):
        return {fmt_eur(value), str(value)}
    if isinstance(value, str):
        out = {value}
        try:
            out.add(fmt_date(value))
        except ValueError:
            pass
        labels = {**dict(ExclusionLevel.choices), **dict(UnemploymentBenefit.Kind.choices)}
        if value in labels:
            out.add(str(labels[value]))
        return out
    raise TypeError(value)


def levels_seen_by(user, person, blocked) -> dict[str, str]:
    membership = user.memberships.get()
    viewer = Viewer.from_membership(membership)
    facts = load_facts(viewer=viewer, person_id=person.pk, purpose=PREVENTION)
    categories = {c for r in RULES.values() for c in r.categories}
    levels = {
        c: min_level(*(decide(facts, c, s).level for s in source_services(c))) for c in categories
    }
    for category, by_service in blocked:
        if by_service != viewer.service:
            levels[category] = min_level(levels[category], "indicator")
    return levels


@pytest.mark.parametrize("reader", READERS)
def test_no_alert_text_shows_a_value_the_reader_may_not_see(scenario, reader):
    state, persons, users = scenario
    user = users[reader]
    viewer = Viewer.from_membership(user.memberships.get())
    inbox = inbox_for(viewer=viewer)
    rows = inbox.mine + inbox.queue
    checked = 0
    for person in persons:
        hits = {
            code: rule_hits(rule(code), person_ids=[person.pk]).get(person.pk) for code in RULES
        }
        for row in (r for r in rows if r.person_id == person.pk):
            code = next(c for c, d in RULES.items() if str(d.title) == row.rule_title)
            facts = hits[code]
            assert facts is not None, (code, "delivered but does not fire")
            levels = levels_seen_by(user, person, facts.get("_blocked", []))
            for category in RULES[code].categories:
                if levels[category] == FULL:
                    continue
                for text in value_strings(facts.get(category)):
                    assert text not in row.text, (state, reader, code, category, text, row.text)
            checked += 1
    if state == "all" or reader in ("social_worker", "coordinator"):
        assert checked > 0, (
            f"{reader} received no alert in state {state}: the test would prove nothing"
        )


def test_the_detailed_text_does_show_what_the_reader_sees_in_full(
    world, coordinator, pinned_thresholds
):
    """The positive control: with the full consent, values of categories seen in full do appear."""
    state, persons, users = build_scenario(world, coordinator, "all")
    social = inbox_for(viewer=Viewer.from_membership(users["social_worker"].memberships.get()))
    texts = " ".join(r.text for r in social.mine)
    assert fmt_eur(INCOME) in texts  # the household's income: the social worker's own category
    assert "Menores en el hogar: 2." in texts
    counsellor = inbox_for(
        viewer=Viewer.from_membership(users["employment_counsellor"].memberships.get())
    )
    poverty = [r.text for r in counsellor.mine if r.rule_title == "Riesgo de pobreza infantil"]
    assert poverty and all("servicios sociales" in t and "€" not in t for t in poverty)


def test_a_reader_who_sees_a_category_hidden_gets_no_alert_of_that_rule(
    world, coordinator, pinned_thresholds
):
    state, persons, users = build_scenario(world, coordinator, "none")
    counsellor = inbox_for(
        viewer=Viewer.from_membership(users["employment_counsellor"].memberships.get())
    )
    titles = {r.rule_title for r in counsellor.mine + counsellor.queue}
    # without a basis the household categories (social services') are hidden from employment
    assert str(RULES["hogar_pobreza_con_menores"].title) not in titles
    assert str(RULES["desempleo_larga_duracion_sin_plan"].title) in titles  # its own category


def test_the_coordinator_reads_the_queue_built_for_the_most_restricted_role(
    world, coordinator, pinned_thresholds
):
    from sharing.models import VisibilityRule

    VisibilityRule.objects.filter(
        role=Role.COORDINATOR, category_id="situacion_economica", community__isnull=True
    ).update(level="indicator")
    person = _at_risk_person(
        world, social_professional=False, restricted_benefit=False, consent="all"
    )
    sweep("hogar_pobreza_con_menores")
    for user in (world.social_worker, coordinator):
        [row] = inbox_for(viewer=Viewer.from_membership(user.memberships.get())).queue
        assert row.person_id == person.pk and "€" not in row.text
