"""Each platform indicator against a small world whose answer is worked out by hand here.

The world of ``conftest``: a pilot of four organisations, S (CEAS Valladolid Centro,
social), E (employment office, Valladolid), N (NGO, Valladolid) and L (CEAS León), and
the period January–June 2026. ``raw`` runs one source without disclosure control, to
check the arithmetic; ``publish`` is what pages get, protected.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cases.models import DiaryEntry, HouseholdMember, MinimumIncome
from consent.models import LegalBasis, Objection
from coordination.models import PlanAction
from pilots.indicators import SOURCES, publish, run_source
from pilots.sdc import SUPPRESSED
from ris.accounts.models import ServiceKind
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    HouseholdFactory,
    OrganisationFactory,
    PersonFactory,
    make_section_entry,
)

from . import builders
from .builders import at
from .conftest import enrol_on, persons

pytestmark = pytest.mark.django_db

FEB, MAR, APR, MAY = (dt.date(2026, m, 1) for m in (2, 3, 4, 5))
P47, P24, REGIONAL = "47", "24", ""


def raw(code, scope):
    """The unprotected tables of the source holding measure ``code``."""
    source = next(s for s in SOURCES if any(m.code == code for m in s.measures))
    return run_source(source, scope)[code]


def values(cells: dict) -> dict:
    return {k: c.value for k, c in cells.items() if c.value}


@pytest.fixture
def outsider_org(db):
    return OrganisationFactory(name="Entidad fuera del piloto", kind=ServiceKind.THIRD_SECTOR)


# --- Caseload -----------------------------------------------------------------------------


@pytest.fixture
def caseload(social_services_centre, employment_office, leon_centre, outsider_org):
    s, e, l_ = social_services_centre, employment_office, leon_centre
    world = {
        "A": persons(6),  # attended by S since before the period, still open
        "B": persons(5),  # new at S in February and at E in March: two services
        "C": persons(1),  # at León from April 1 to April 20
    }
    for p in world["A"]:
        enrol_on(p, s, dt.date(2025, 11, 10))
    for p in world["B"]:
        enrol_on(p, s, dt.date(2026, 2, 3))
        enrol_on(p, e, dt.date(2026, 3, 10))
    enrol_on(world["C"][0], l_, dt.date(2026, 4, 1), dt.date(2026, 4, 20))
    enrol_on(PersonFactory(), s, dt.date(2025, 1, 1), dt.date(2025, 12, 31))  # closed before the period
    enrol_on(PersonFactory(), s, dt.date(2026, 7, 5))  # starts after it
    enrol_on(PersonFactory(), outsider_org, dt.date(2026, 3, 1))  # not in the pilot
    return world


def test_persons_attended_count_each_person_once_and_in_each_of_their_organisations(
    scope, caseload, social_services_centre, employment_office, ngo, leon_centre,
):
    table = raw("persons_attended", scope)
    assert table.total.value == 6 + 5 + 1
    assert table.by_org[social_services_centre.pk].value == 11
    assert table.by_org[employment_office.pk].value == 5
    assert table.by_org[ngo.pk].value == 0
    assert table.by_org[leon_centre.pk].value == 1
    assert values(table.by_territory) == {P47: 11, P24: 1}
    assert table.by_month == {}  # a stock: no monthly breakdown


def test_persons_new_by_month_of_their_first_day_in_each_organisation(scope, caseload, employment_office):
    table = raw("persons_new", scope)
    assert table.total.value == 6
    assert values(table.by_month) == {FEB: 5, MAR: 5, APR: 1}
    assert values(table.org_month[employment_office.pk]) == {MAR: 5}


def test_persons_attended_by_more_than_one_service(scope, caseload, social_services_centre, employment_office):
    table = raw("persons_multi_service", scope)
    assert table.total.value == 5
    assert values(table.by_org) == {social_services_centre.pk: 5, employment_office.pk: 5}


def test_the_caseload_of_every_period_of_the_grid_comes_out_of_one_statement(
    scope, social_services_centre, employment_office, leon_centre, django_assert_num_queries,
):
    """A person attended from 3 February to 20 April (and by the employment office in March) is
    in the caseload of February, March, April, both quarters and the half-year, once in each;
    new in February, and at the employment office in March."""
    from pilots.indicators import SOURCE_BY_CODE, run_series
    from pilots.periods import Span, month_end

    [person] = persons(1)
    enrol_on(person, social_services_centre, dt.date(2026, 2, 3), dt.date(2026, 4, 20))
    enrol_on(person, employment_office, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    enrol_on(person, social_services_centre, dt.date(2026, 4, 25), dt.date(2026, 5, 2))  # again: still one
    with django_assert_num_queries(1):
        series = run_series(SOURCE_BY_CODE["caseload"], scope)

    def months(first, last):
        return Span(dt.date(2026, first, 1), month_end(dt.date(2026, last, 1)))

    def values(code):
        return {(s.start.month, s.end.month): p.total.value for s, p in series[code].slices.items() if p.total.value}

    assert values("persons_attended") == {(2, 2): 1, (3, 3): 1, (4, 4): 1, (5, 5): 1, (1, 3): 1, (4, 6): 1,
                                          (1, 6): 1}
    assert values("persons_new") == {(2, 2): 1, (3, 3): 1, (4, 4): 1, (1, 3): 1, (4, 6): 1, (1, 6): 1}
    q1, q2 = series["persons_attended"].slices[months(1, 3)], series["persons_attended"].slices[months(4, 6)]
    assert (q1.by_org[social_services_centre.pk].value, q1.by_org[employment_office.pk].value) == (1, 1)
    assert (q2.by_org[social_services_centre.pk].value, q2.by_org[employment_office.pk].value) == (1, 0)
    assert q1.by_territory["47"].value == 1  # two enrolments in Valladolid, one person


def test_more_than_one_service_is_counted_over_the_chosen_period_only(scope, social_services_centre,
                                                                      employment_office):
    """Social services in January, employment in March: two services in the first quarter, in no month."""
    from pilots.periods import Span

    for p in persons(5):
        enrol_on(p, social_services_centre, dt.date(2026, 1, 5), dt.date(2026, 1, 25))
        enrol_on(p, employment_office, dt.date(2026, 3, 5), dt.date(2026, 3, 25))
    quarter = Span(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert publish(scope, period=quarter).table("persons_multi_service").total.shown == 5
    for month in (1, 3):
        span = Span(dt.date(2026, month, 1), dt.date(2026, month, 31))
        assert publish(scope, period=span).table("persons_multi_service").total.shown == 0


def test_two_organisations_of_the_same_service_are_one_service(scope, social_services_centre, leon_centre):
    for p in persons(5):
        enrol_on(p, social_services_centre, dt.date(2026, 2, 1))
        enrol_on(p, leon_centre, dt.date(2026, 2, 1))
    assert raw("persons_multi_service", scope).total.value == 0


def test_persons_with_an_active_consent_or_legal_basis_at_the_end_of_the_period(
    scope, caseload, social_services_centre, employment_office,
):
    a, b = caseload["A"], caseload["B"]
    year = {"given_on": dt.date(2026, 1, 2), "valid_from": dt.date(2026, 1, 2), "valid_until": dt.date(2026, 12, 31)}
    for p in a[:4]:
        ConsentFactory(person=p, **year)  # in force on 30/06: 4
    ConsentRevocationFactory(consent=ConsentFactory(person=a[4], **year), revoked_at=at(dt.date(2026, 5, 1)))
    ConsentRevocationFactory(consent=ConsentFactory(person=a[5], **year), revoked_at=at(dt.date(2026, 8, 1)))  # +1
    ConsentFactory(person=b[0], given_on=dt.date(2025, 4, 1), valid_from=dt.date(2025, 4, 1),
                   valid_until=dt.date(2026, 3, 31))  # expired before the end of the period
    basis = LegalBasis.objects.create(
        name="Ley de servicios sociales (rentas mínimas)", reference="Ley 16/2010", community=scope_community(scope),
        from_service=ServiceKind.SOCIAL, to_service=ServiceKind.EMPLOYMENT, categories=["rentas_minimas"],
        purposes=["itinerario"], mode=LegalBasis.Mode.BY_LAW, condition=LegalBasis.Condition.MINIMUM_INCOME,
    )
    for p, status in ((b[1], "granted"), (b[2], "granted"), (b[3], "denied")):
        make_section_entry(MinimumIncome, person=p, organisation=social_services_centre, status=status,
                           scheme="regional", start_date=dt.date(2026, 1, 1))
    Objection.objects.create(person=b[2], legal_basis=basis, recorded_by=builders.staff())  # b[2] objects
    table = raw("persons_with_basis", scope)
    assert table.total.value == 4 + 1 + 1  # a[0..3], a[5], b[1]
    assert table.by_org[employment_office.pk].value == 1  # b[1]


def scope_community(scope):
    from ris.reference.models import AutonomousCommunity

    return AutonomousCommunity.objects.get(code="07")


# --- Referrals ------------------------------------------------------------------------------


@pytest.fixture
def referrals(social_services_centre, employment_office, ngo, outsider_org):
    s, e, n = social_services_centre, employment_office, ngo
    p = persons(11)
    feb, mar, apr = at(dt.date(2026, 2, 2)), at(dt.date(2026, 3, 5)), at(dt.date(2026, 4, 7))
    # S → E in February: accepted after 2, 4 and 10 days, rejected after 1, two pending
    for person, answer in zip(p[:6], [("a", 2), ("a", 4), ("a", 10), ("r", 1), None, None], strict=True):
        builders.referral(person, s, e, feb, **_answer(answer))
    # E → N in March: all accepted, after 1, 1, 2, 3 and 5 days
    for person, days in zip(p[:5], [1, 1, 2, 3, 5], strict=True):
        builders.referral(person, e, n, mar, accepted_after=days)
    # outside → S in April: accepted after 7, rejected after 1, 2, 3, 4
    for person, answer in zip(p[6:11], [("a", 7), ("r", 1), ("r", 2), ("r", 3), ("r", 4)], strict=True):
        builders.referral(person, outsider_org, s, apr, **_answer(answer))
    builders.referral(p[0], s, e, at(dt.date(2025, 12, 20)), accepted_after=1)  # before the period
    return p


def _answer(answer):
    if answer is None:
        return {}
    kind, days = answer
    return {"accepted_after": days} if kind == "a" else {"rejected_after": days}


def test_referrals_sent_by_pilot_organisations(scope, referrals, social_services_centre, employment_office):
    table = raw("referrals_sent", scope)
    assert table.total.value == 6 + 5
    assert values(table.by_month) == {FEB: 6, MAR: 5}
    assert values(table.by_org) == {social_services_centre.pk: 6, employment_office.pk: 5}


def test_referrals_received_accepted_and_rejected_by_the_receiving_organisation(
    scope, referrals, social_services_centre, employment_office, ngo,
):
    received, accepted, rejected = (raw(c, scope) for c in
                                    ("referrals_received", "referrals_accepted", "referrals_rejected"))
    assert received.total.value == 16
    assert values(received.by_org) == {employment_office.pk: 6, ngo.pk: 5, social_services_centre.pk: 5}
    assert values(received.by_month) == {FEB: 6, MAR: 5, APR: 5}
    assert accepted.total.value == 3 + 5 + 1
    assert rejected.total.value == 1 + 4
    assert values(rejected.by_org) == {employment_office.pk: 1, social_services_centre.pk: 4}


def test_median_days_to_answer_a_referral(scope, referrals, ngo):
    table = raw("referral_answer_days", scope)
    # 1 1 1 1 2 2 2 | 3 3 4 4 5 7 10: fourteen answers, median (2 + 3) / 2
    assert table.total.value == 2.5
    assert table.total.persons == 10
    assert table.by_org[ngo.pk].value == 2.0  # 1 1 2 3 5


# --- Joint plans and their actions -------------------------------------------------------------


def test_joint_plans_opened_and_median_days_from_first_contact(
    scope, social_services_centre, employment_office, outsider_org,
):
    s, e = social_services_centre, employment_office
    q = persons(7)
    enrol_on(q[0], s, dt.date(2026, 1, 5))
    make_section_entry(DiaryEntry, person=q[0], organisation=s, kind="interview", happened_at=at(dt.date(2026, 1, 10)))
    builders.plan(q[0], s, dt.date(2026, 2, 1))  # 27 days from 05/01
    enrol_on(q[1], s, dt.date(2025, 12, 1))
    make_section_entry(DiaryEntry, person=q[1], organisation=s, kind="interview",
                       happened_at=at(dt.date(2026, 2, 20)))  # after the plan: not the first contact
    builders.plan(q[1], s, dt.date(2026, 2, 15))  # 76 days from 01/12
    make_section_entry(DiaryEntry, person=q[2], organisation=s, kind="phone_call",
                       happened_at=at(dt.date(2026, 2, 20)))
    enrol_on(q[2], s, dt.date(2026, 3, 1))
    builders.plan(q[2], s, dt.date(2026, 3, 10))  # 18 days from the call on 20/02
    enrol_on(q[3], e, dt.date(2026, 3, 1))
    builders.plan(q[3], s, dt.date(2026, 3, 31))  # 30 days
    enrol_on(q[4], s, dt.date(2026, 4, 1))
    builders.plan(q[4], s, dt.date(2026, 4, 11))  # 10 days
    enrol_on(q[5], outsider_org, dt.date(2026, 1, 1))
    builders.plan(q[5], s, dt.date(2026, 4, 20))  # no contact with the pilot: opened, no delay
    builders.plan(q[6], outsider_org, dt.date(2026, 3, 1))  # not organised by the pilot
    builders.plan(q[0], s, dt.date(2026, 7, 10))  # after the period

    opened, delay = raw("plans_opened", scope), raw("plan_first_contact_days", scope)
    assert opened.total.value == 6
    assert values(opened.by_month) == {FEB: 2, MAR: 2, APR: 2}
    assert delay.total.value == 27.0  # 10 18 | 27 | 30 76
    assert delay.total.persons == 5


def test_plan_actions_completed_in_the_period_by_their_end_date(scope, social_services_centre, outsider_org):
    s = social_services_centre
    done = PlanAction.State.COMPLETED
    plans = [builders.plan(p, s, dt.date(2026, 1, 15)) for p in persons(6)]
    for joint, end in zip(plans[:5], [dt.date(2026, 2, 1), dt.date(2026, 2, 9), dt.date(2026, 3, 3),
                                      dt.date(2026, 4, 4), dt.date(2026, 4, 30)], strict=True):
        builders.action(joint, s, state=done, end=end)
    builders.action(plans[5], s, state=done, end=dt.date(2026, 8, 1))  # after the period
    builders.action(plans[0], s, state=PlanAction.State.IN_PROGRESS, end=None)
    builders.action(plans[1], outsider_org, state=done, end=dt.date(2026, 3, 1))  # not a pilot organisation
    table = raw("plan_actions_completed", scope)
    assert table.total.value == 5
    assert values(table.by_month) == {FEB: 2, MAR: 1, APR: 2}


# --- Case conferences -----------------------------------------------------------------------------


def test_case_conferences_held_and_persons_reviewed(scope, social_services_centre, outsider_org):
    x = persons(6)
    builders.conference(social_services_centre, dt.date(2026, 3, 12), x[:4])
    builders.conference(social_services_centre, dt.date(2026, 5, 20), x[2:])
    builders.conference(social_services_centre, dt.date(2026, 6, 2), [])  # held, nobody presented
    builders.conference(social_services_centre, dt.date(2026, 7, 1), x)  # after the period
    builders.conference(outsider_org, dt.date(2026, 3, 1), x)
    held, reviewed = raw("conferences_held", scope), raw("conference_persons", scope)
    assert held.total.value == 3
    assert reviewed.total.value == 6
    assert values(reviewed.by_month) == {MAR: 4, MAY: 4}


def test_meetings_are_not_persons_and_are_never_suppressed(scope, social_services_centre):
    builders.conference(social_services_centre, dt.date(2026, 3, 12), persons(1))
    table = publish(scope).table("conferences_held")
    assert table.total.shown == 1
    assert publish(scope).table("conference_persons").total.shown == SUPPRESSED


# --- Alerts and duplicated services ---------------------------------------------------------------


@pytest.fixture
def alerts(social_services_centre, employment_office, outsider_org):
    from diagnostics.models import Alert, AlertDelivery, AlertRule

    def rule(code):
        return AlertRule.objects.get_or_create(code=code, defaults={"description": code})[0]

    def alert(person, code, created, resolved_after, *orgs):
        resolved = None if resolved_after is None else created + dt.timedelta(days=resolved_after)
        made = Alert.objects.create(rule=rule(code), person=person, created_at=created, resolved_at=resolved,
                                    state="resolved" if resolved else "open")
        for org in orgs:
            AlertDelivery.objects.create(alert=made, organisation=org, text="x", plain_text="x")
        return made

    z = persons(11)
    feb, mar = at(dt.date(2026, 2, 10)), at(dt.date(2026, 3, 10))
    for person, days in zip(z[:5], [2, 4, 6, None, None], strict=True):
        alert(person, "sin_contacto", feb, days, social_services_centre)
    for person, days in zip(z[5:10], [1, 1, 3, 5, 8], strict=True):
        alert(person, "duplicidad_recurso", mar, days, social_services_centre, employment_office)
    alert(z[10], "sin_contacto", at(dt.date(2025, 12, 1)), 1, social_services_centre)  # before the period
    alert(z[10], "sin_contacto", mar, 1, outsider_org)  # not delivered to the pilot
    return z


def test_alerts_raised_resolved_and_median_days_to_resolution(scope, alerts, social_services_centre,
                                                              employment_office):
    raised, resolved, days = (raw(c, scope) for c in ("alerts_raised", "alerts_resolved", "alert_resolution_days"))
    assert raised.total.value == 10  # one alert delivered to two organisations is one alert
    assert values(raised.by_org) == {social_services_centre.pk: 10, employment_office.pk: 5}
    assert resolved.total.value == 8
    assert days.total.value == 3.5  # 1 1 2 3 | 4 5 6 8
    assert days.by_org[employment_office.pk].value == 3.0  # 1 1 3 5 8: each organisation's own alerts
    assert days.by_territory["47"].value == 3.5  # S and E are both in Valladolid: each alert once


def test_alerts_by_rule(scope, alerts):
    raised, resolved = raw("alerts_raised", scope), raw("alerts_resolved", scope)
    assert values(raised.extra["rule"]) == {"sin_contacto": 5, "duplicidad_recurso": 5}
    assert values(resolved.extra["rule"]) == {"sin_contacto": 3, "duplicidad_recurso": 5}


def test_services_given_twice_and_duplications_avoided(scope, alerts):
    assert raw("duplicates_detected", scope).total.value == 5
    assert raw("duplicates_avoided", scope).total.value == 5


def test_alerts_by_rule_are_protected_with_their_complement(scope, alerts):
    resolved = publish(scope).table("alerts_resolved")
    assert {k: c.shown for k, c in resolved.extra["rule"].items()} == {
        "sin_contacto": SUPPRESSED, "duplicidad_recurso": SUPPRESSED,
    }
    assert resolved.total.shown == 8


# --- Child poverty (AROPE households with minors) ---------------------------------------------------


def test_households_with_minors_at_risk_and_the_children_in_them(scope, social_services_centre, leon_centre):
    since = dt.date(2024, 1, 1)

    def household(organisation, minors, income):
        home = HouseholdFactory(monthly_income=income)
        adult = PersonFactory(birth_date=dt.date(1985, 5, 5))
        HouseholdMember.objects.create(household=home, person=adult, relationship="holder", start_date=since)
        for _ in range(minors):
            HouseholdMember.objects.create(household=home, person=PersonFactory(birth_date=dt.date(2018, 5, 1)),
                                           relationship="child", start_date=since)
        if organisation is not None:
            enrol_on(adult, organisation, dt.date(2026, 1, 15))

    for minors in (1, 1, 2, 2, 3):
        household(social_services_centre, minors, 0)  # no income: at risk of poverty
    household(leon_centre, 1, 0)
    household(social_services_centre, 2, 10_000)  # not at risk
    household(social_services_centre, 0, 0)  # at risk, no minors
    household(None, 2, 0)  # nobody attended by the pilot

    households, children = raw("arope_households_with_minors", scope), raw("arope_children", scope)
    assert households.total.value == 6
    assert children.total.value == 1 + 1 + 2 + 2 + 3 + 1
    assert households.by_org[social_services_centre.pk].value == 5
    assert children.by_org[leon_centre.pk].value == 1
    published = publish(scope)
    assert published.table("arope_households_with_minors").by_org[leon_centre.pk].shown == SUPPRESSED


# --- Disclosures by category and basis ---------------------------------------------------------------


def test_disclosures_by_category_and_basis(pilot, employment_office, outsider_org):
    from django.utils import timezone

    from pilots.selectors import scope_for

    today = timezone.localdate()
    scope = scope_for(pilot=pilot, start=today.replace(day=1), end=today, today=today)
    w = persons(5)
    lines = [LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel=Channel.WEB, person_id=p.pk,
                     organisation_id=employment_office.pk, category="competencias", level="full",
                     purpose="itinerario", basis="consent:1") for p in w]
    lines.append(LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel=Channel.WEB, person_id=w[0].pk,
                         organisation_id=employment_office.pk, category="salud", level="full",
                         purpose="itinerario", basis="legal_basis:2"))
    lines.append(LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel=Channel.WEB, person_id=w[1].pk,
                         organisation_id=outsider_org.pk, category="salud", level="full", basis="consent:3"))
    lines.append(LogLine(event=DisclosureLogEntry.Event.SPECIAL_READ, channel=Channel.WEB, person_id=w[1].pk,
                         organisation_id=employment_office.pk, category="salud", basis="own_service"))
    disclosure_log_append(lines)

    disclosures, persons_ = raw("disclosures", scope), raw("persons_disclosed", scope)
    assert disclosures.total.value == 6
    assert persons_.total.value == 5
    assert values(disclosures.extra["category"]) == {"competencias": 5, "salud": 1}
    assert values(disclosures.extra["basis"]) == {"consent": 5, "legal_basis": 1}
    protected = publish(scope).table("disclosures")
    assert {k: c.shown for k, c in protected.extra["category"].items()} == {
        "competencias": SUPPRESSED, "salud": SUPPRESSED}


# --- The publication: protection and selections ------------------------------------------------------


def test_a_publication_suppresses_small_cells_and_their_complements(scope, caseload, leon_centre):
    table = publish(scope).table("persons_new")
    months = table.by_month
    assert months[APR].shown == SUPPRESSED  # one person
    # Its complements: the five B are new at S in February and at E in March. Hiding León
    # hides S's half-year (the smallest other organisation: S and E tie at 5, S comes first),
    # then S's first quarter and February; E's quarter goes too, since the organisations of a
    # period are protected as if they added up (the five B are in both), and with it March.
    assert [months[m].shown for m in (FEB, MAR)] == [SUPPRESSED, SUPPRESSED]
    assert table.total.shown == 6
    assert table.by_org[leon_centre.pk].shown == SUPPRESSED
    assert table.by_territory[P24].shown == SUPPRESSED
    assert table.by_territory[P47].shown == SUPPRESSED  # the only other territory with persons


def test_filters_select_cells_of_the_same_protected_publication(scope, caseload, leon_centre, employment_office):
    table = publish(scope).table("persons_new")
    headline, months = table.selection(organisation_id=leon_centre.pk)
    assert headline is table.by_org[leon_centre.pk] and headline.shown == SUPPRESSED
    assert months[APR].shown == SUPPRESSED
    headline, months = table.selection(territory=P47)
    assert headline is table.by_territory[P47]
    headline, months = table.selection(organisation_id=employment_office.pk)
    assert headline is table.by_org[employment_office.pk] and months[MAR] is table.org_month[employment_office.pk][MAR]


def test_a_source_whose_models_are_missing_is_published_as_not_available(scope, monkeypatch):
    from pilots import indicators

    monkeypatch.setattr(indicators, "available_model", lambda *args, **kwargs: None)
    published = publish(scope)
    for code in ("referrals_sent", "referrals_received", "plans_opened", "plan_actions_completed",
                 "conferences_held", "alerts_raised", "duplicates_avoided"):
        table = published.table(code)
        assert not table.available and str(table.reason).startswith("No disponible"), code
    assert published.table("persons_attended").available
