"""A small pilot world whose indicators the tests compute by hand.

The pilot "Piloto Valladolid-León" (Castilla y León, FSE+) has four organisations:

- ``social_services_centre`` (CEAS Valladolid Centro, social, Valladolid → province 47)
- ``employment_office`` (Oficina de Empleo Valladolid Centro, employment, province 47)
- ``ngo`` (Fundación Inserta Valladolid, Third Sector, province 47)
- ``leon_centre`` (CEAS León Oeste, social, León → province 24)

The period is the first half of 2026 (``PERIOD``), well before "today" (``TODAY``).
Dates are given explicitly everywhere: helpers write the rows the services would
write, backdated, because the indicators are about when things happened.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Person
from pilots.indicators import Scope
from pilots.models import FundingLine, Pilot
from pilots.selectors import scope_for
from ris.accounts.models import Organisation, ServiceKind
from ris.reference.models import AutonomousCommunity, Municipality
from sharing.caseload import enrolment_open
from sharing.models import Enrolment
from tests.factories import CASTILLA_Y_LEON, OrganisationFactory, PersonFactory

LEON = "24089"
PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
TODAY = dt.date(2026, 11, 23)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def enrol_on(person: Person, organisation: Organisation, start: dt.date, end: dt.date | None = None) -> Enrolment:
    """An enrolment (and the caseload permission) that started on ``start``."""
    enrolment = enrolment_open(organisation=organisation, person=person, origin=Enrolment.Origin.REGISTRATION)
    Enrolment.objects.filter(pk=enrolment.pk).update(start_date=start, end_date=end)
    enrolment.refresh_from_db()
    return enrolment


def persons(n: int, **values) -> list[Person]:
    return [PersonFactory(**values) for _ in range(n)]


@pytest.fixture
def leon_centre(db) -> Organisation:
    return OrganisationFactory(
        name="CEAS León Oeste", code="ceas-leon-oeste", kind=ServiceKind.SOCIAL,
        municipality=Municipality.objects.get(code=LEON),
    )


@pytest.fixture
def pilot(social_services_centre, employment_office, ngo, leon_centre) -> Pilot:
    pilot = Pilot.objects.create(
        name="Piloto Valladolid-León", code="piloto-valladolid-leon",
        community=AutonomousCommunity.objects.get(code=CASTILLA_Y_LEON),
        start_date=dt.date(2025, 10, 1), end_date=dt.date(2027, 9, 30),
        funding_lines=[FundingLine.ESF_PLUS, FundingLine.REGIONAL],
        objectives="Coordinar servicios sociales y de empleo en itinerarios conjuntos.",
    )
    pilot.organisations.set([social_services_centre, employment_office, ngo, leon_centre])
    return pilot


@pytest.fixture
def scope(pilot) -> Scope:
    return scope_for(pilot=pilot, start=PERIOD[0], end=PERIOD[1], today=TODAY)
