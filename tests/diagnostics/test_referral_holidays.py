"""An unanswered referral counts working days in the receiving organisation's community.

The rule "derivación sin respuesta" fires once a referral still pending has waited more than
10 working days: Monday to Friday, without the national holidays and those of the autonomous
community of the organisation that must answer (``diagnostics.workdays``, the ``holidays``
library). Around 23 April 2026 (a Thursday: Castilla y León's day, a working day in
Castilla-La Mancha) and 1 May 2026 (a Friday, national), counted by hand from Thursday
7 May 2026 back (the working days waited are those after the day of sending):

=====================  ===================  =====================
sent on                Castilla y León      Castilla-La Mancha
=====================  ===================  =====================
Wednesday 22 April     9                    10 (the 23rd counts)
Tuesday 21 April       10                   11
Monday 20 April        11                   12
=====================  ===================  =====================

So the same referral, sent on Tuesday 21 April, is overdue when Castilla-La Mancha must
answer it and not yet when Castilla y León must: the regional holiday moves the threshold
by one day. The shared personas are in Castilla y León (``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from django.apps import apps
from django.utils import timezone

from diagnostics.models import Alert
from diagnostics.services import rule_hits
from diagnostics.workdays import INE_TO_ISO
from ris.accounts.models import ServiceKind
from tests.factories import OrganisationFactory

from .conftest import rule, sweep

try:
    Referral = apps.get_model("coordination", "Referral")
except LookupError:  # pragma: no cover - the coordination app is written in parallel
    Referral = None

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(Referral is None, reason="coordination.Referral does not exist"),
]

CASTILLA_Y_LEON, CASTILLA_LA_MANCHA = "07", "08"
CODE = "derivacion_sin_respuesta"
#: Thursday 7 May 2026, midday in Madrid.
NOW = timezone.make_aware(dt.datetime(2026, 5, 7, 12, 0))


def april(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 4, day, hour, minute))


@pytest.fixture
def toledo_office(db):
    """An employment office in Castilla-La Mancha."""
    return OrganisationFactory(
        name="Oficina de Empleo Toledo",
        kind=ServiceKind.EMPLOYMENT,
        community_code=CASTILLA_LA_MANCHA,
    )


def receivers(world, toledo_office):
    return {CASTILLA_Y_LEON: world.employment, CASTILLA_LA_MANCHA: toledo_office}


def referral(world, *, to, sent_at, sender=None):
    person = world.person()
    sender = sender or world.social
    Referral.objects.create(
        person=person,
        from_organisation=sender,
        to_organisation=to,
        reason="Orientación laboral",
        categories=["ficha_basica"],
        sent_at=sent_at,
        sent_by=world.social_worker,
    )
    return person


def overdue(person, now=NOW) -> bool:
    return person.pk in rule_hits(rule(CODE), person_ids=[person.pk], now=now)


def test_the_calendars_are_the_ones_the_table_was_counted_with(world, toledo_office):
    assert NOW.weekday() == 3 and timezone.localdate(NOW) == dt.date(2026, 5, 7)
    assert (world.employment.community_id, toledo_office.community_id) == ("07", "08")
    cyl = holidays.Spain(subdiv=INE_TO_ISO["07"], years=2026)
    clm = holidays.Spain(subdiv=INE_TO_ISO["08"], years=2026)
    assert dt.date(2026, 4, 23) in cyl and dt.date(2026, 4, 23) not in clm
    assert dt.date(2026, 5, 1) in cyl and dt.date(2026, 5, 1) in clm
    window = [dt.date(2026, 4, 20) + dt.timedelta(days=n) for n in range(18)]
    assert [d for d in window if d in clm] == [dt.date(2026, 5, 1)]
    assert [d for d in window if d in cyl] == [dt.date(2026, 4, 23), dt.date(2026, 5, 1)]


@pytest.mark.parametrize(
    ("sent_at", "community", "expected"),
    [
        pytest.param(april(22), CASTILLA_Y_LEON, False, id="cyl-9-days"),
        pytest.param(april(21), CASTILLA_Y_LEON, False, id="cyl-10-days"),
        pytest.param(april(20), CASTILLA_Y_LEON, True, id="cyl-11-days"),
        pytest.param(april(22), CASTILLA_LA_MANCHA, False, id="clm-10-days"),
        pytest.param(april(21), CASTILLA_LA_MANCHA, True, id="clm-11-days"),
        pytest.param(april(20), CASTILLA_LA_MANCHA, True, id="clm-12-days"),
    ],
)
def test_more_than_10_working_days_of_the_receiving_community(
    world, toledo_office, sent_at, community, expected
):
    person = referral(world, to=receivers(world, toledo_office)[community], sent_at=sent_at)
    assert overdue(person) is expected


def test_the_whole_population_query_counts_each_referral_in_its_receivers_community(
    world, toledo_office
):
    to = receivers(world, toledo_office)
    pending = {
        (day, community): referral(world, to=to[community], sent_at=april(day))
        for day in (20, 21, 22)
        for community in to
    }
    hits = rule_hits(rule(CODE), now=NOW)
    fired = {key for key, person in pending.items() if person.pk in hits}
    assert fired == {(20, CASTILLA_Y_LEON), (20, CASTILLA_LA_MANCHA), (21, CASTILLA_LA_MANCHA)}


def test_the_regional_holiday_moves_the_last_overdue_sending_day_back_by_one(world, toledo_office):
    to = receivers(world, toledo_office)
    days = range(14, 25)  # Tuesday 14 to Friday 24 April, weekend included
    pending = {
        (day, community): referral(world, to=to[community], sent_at=april(day))
        for day in days
        for community in to
    }
    hits = rule_hits(rule(CODE), now=NOW)
    latest = {
        community: max(
            day for (day, c), person in pending.items() if c == community and person.pk in hits
        )
        for community in to
    }
    assert latest == {CASTILLA_Y_LEON: 20, CASTILLA_LA_MANCHA: 21}
    # and every earlier day is overdue too
    for (day, community), person in pending.items():
        assert (person.pk in hits) is (day <= latest[community]), (day, community)


def test_it_is_the_receiver_community_not_the_sender_that_counts(world, toledo_office):
    # Castilla-La Mancha sends to Castilla y León on Tuesday 21 April: 10 working days in
    # Castilla y León, not overdue; the other way round it is overdue
    to_cyl = referral(world, to=world.employment, sent_at=april(21), sender=toledo_office)
    to_clm = referral(world, to=toledo_office, sent_at=april(21), sender=world.social)
    assert (overdue(to_cyl), overdue(to_clm)) == (False, True)


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        # 23:30 in Madrid on Tuesday 21 April is still the 21st (21:30 UTC)
        pytest.param(april(21, 23, 30), True, id="late-on-the-21st"),
        # 00:30 in Madrid on Wednesday 22 April is the 22nd, although it is the 21st in UTC
        pytest.param(april(22, 0, 30), False, id="just-after-midnight-on-the-22nd"),
    ],
)
def test_the_day_of_sending_is_the_local_day(world, toledo_office, sent_at, expected):
    assert sent_at.astimezone(dt.UTC).date() == dt.date(2026, 4, 21)
    assert overdue(referral(world, to=toledo_office, sent_at=sent_at)) is expected


def test_the_next_working_day_the_cyl_referral_is_overdue_too(world, toledo_office):
    # Friday 8 May: 11 working days since Tuesday 21 April in Castilla y León as well
    person = referral(world, to=world.employment, sent_at=april(21))
    friday = NOW + dt.timedelta(days=1)
    assert (overdue(person, NOW), overdue(person, friday)) == (False, True)


def test_the_sweep_opens_the_alert_only_where_the_receiver_has_waited_long_enough(
    world, toledo_office
):
    cyl = referral(world, to=world.employment, sent_at=april(21))
    clm = referral(world, to=toledo_office, sent_at=april(21))
    result = sweep(CODE, now=NOW)
    opened = set(
        Alert.objects.filter(rule__code=CODE, state="open").values_list("person_id", flat=True)
    )
    assert opened == {clm.pk} and cyl.pk not in opened
    assert result.summary()["created"] == 1
