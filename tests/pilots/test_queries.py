"""Indicators are set-based: one SQL statement per source, whatever the population, and every
evaluation page costs the same number of queries for a small and a larger world."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coordination.models import PlanAction
from pilots import esf
from pilots.indicators import SOURCES, publish
from tests.factories import OrganisationFactory

from . import builders
from .builders import at
from .conftest import enrol_on, persons

pytestmark = pytest.mark.django_db

PERIOD = {"periodo": "2026"}  # the running year: computed live around its frozen months
#: session, user and membership (3), pilot (1), its organisations (1), the frozen periods (1), then:
#: the ten sources of indicators (every period of the grid at once), the two ESF+ tables, the
#: latest follow-ups, the whole list of follow-ups, and the disclosure log line (savepoint, lock,
#: tail, insert, release: 5).
LOG = 5
SOURCE_QUERIES = 10
FROZEN = 1
PAGE_QUERIES = {"dashboard": 3 + 2 + FROZEN + SOURCE_QUERIES + 1, "esf": 3 + 2 + FROZEN + 2 + LOG,
                "follow_ups": 3 + 1 + 1 + 1, "report": 3 + 2 + FROZEN + SOURCE_QUERIES + 2 + 1 + LOG,
                "csv": 3 + 2 + FROZEN + SOURCE_QUERIES + LOG, "xlsx": 3 + 2 + FROZEN + SOURCE_QUERIES + LOG}
#: A closed period is served from its frozen figures: no source, no ESF+ statement.
CLOSED_PERIOD = {"periodo": "2026-T1"}
CLOSED_PAGE_QUERIES = {"dashboard": 3 + 2 + FROZEN + 1, "esf": 3 + 2 + FROZEN + LOG,
                       "report": 3 + 2 + FROZEN + 1 + LOG, "csv": 3 + 2 + FROZEN + LOG, "xlsx": 3 + 2 + FROZEN + LOG}


def grow(pilot, social_services_centre, employment_office, ngo, n: int) -> None:
    """``n`` more persons with enrolments, referrals, plans, actions, conferences and a new organisation."""
    extra = OrganisationFactory()
    pilot.organisations.add(extra)
    people = persons(n)
    for i, person in enumerate(people):
        enrol_on(person, social_services_centre, dt.date(2026, 1 + i % 6, 3))
        enrol_on(person, extra, dt.date(2026, 2, 1))
        builders.referral(person, social_services_centre, employment_office, at(dt.date(2026, 2, 2)),
                          accepted_after=i % 9)
        joint = builders.plan(person, ngo, dt.date(2026, 3, 1))
        builders.action(joint, ngo, state=PlanAction.State.COMPLETED, end=dt.date(2026, 4, 1))
    builders.conference(social_services_centre, dt.date(2026, 5, 5), people)


def count(callable_) -> int:
    with CaptureQueriesContext(connection) as context:
        callable_()
    return len(context.captured_queries)


def test_the_indicators_of_the_whole_population_take_one_query_per_source(
    scope, pilot, social_services_centre, employment_office, ngo, django_assert_max_num_queries,
):
    grow(pilot, social_services_centre, employment_office, ngo, 3)
    with django_assert_max_num_queries(len(SOURCES)):
        small = publish(scope)
    grow(pilot, social_services_centre, employment_office, ngo, 40)
    from pilots.selectors import scope_for

    larger_scope = scope_for(pilot=pilot, start=scope.start, end=scope.end, today=scope.today)
    with django_assert_max_num_queries(len(SOURCES)):
        larger = publish(larger_scope)
    assert larger.table("referrals_sent").total.value == 43 > small.table("referrals_sent").total.value


def test_the_queries_do_not_grow_with_the_number_of_periods(pilot, social_services_centre,
                                                           django_assert_max_num_queries):
    """Every month, quarter and year of a five-year pilot comes out of the same statements as
    those of a single month."""
    from pilots.selectors import scope_for

    for p in persons(6):
        enrol_on(p, social_services_centre, dt.date(2022, 3, 1))
    one_month = scope_for(pilot=pilot, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28), today=dt.date(2026, 11, 23))
    five_years = scope_for(pilot=pilot, start=dt.date(2021, 12, 1), end=dt.date(2026, 11, 30),
                           today=dt.date(2026, 11, 23))
    assert len(five_years.grid().spans) > 80
    for scope in (one_month, five_years):
        with django_assert_max_num_queries(len(SOURCES)):
            publication = publish(scope)
        assert publication.table("persons_attended").total.shown == 6
        with django_assert_max_num_queries(2):
            esf.participants_table(scope), esf.leavers_table(scope)


def test_each_esf_table_is_one_query(scope, pilot, social_services_centre, employment_office, ngo,
                                     django_assert_num_queries):
    grow(pilot, social_services_centre, employment_office, ngo, 12)
    with django_assert_num_queries(1):
        esf.participants_table(scope)
    with django_assert_num_queries(1):
        esf.leavers_table(scope)


@pytest.mark.parametrize("page", ["dashboard", "esf", "follow_ups", "report", "csv", "xlsx"])
def test_every_page_costs_the_same_for_a_small_and_a_larger_world(
    page, client_for, evaluator, pilot, social_services_centre, employment_office, ngo,
    django_assert_max_num_queries,
):
    client = client_for(evaluator)
    if page in ("csv", "xlsx"):
        url = reverse("evaluation:download", args=[pilot.pk, "indicadores", page])
    else:
        url = reverse(f"evaluation:{page}", args=[pilot.pk])
    client.get(url, PERIOD)  # warm-up: sessions, caches of the first request
    grow(pilot, social_services_centre, employment_office, ngo, 2)
    with django_assert_max_num_queries(PAGE_QUERIES[page]):
        small = count(lambda: client.get(url, PERIOD))
    grow(pilot, social_services_centre, employment_office, ngo, 30)
    with django_assert_max_num_queries(PAGE_QUERIES[page]):
        larger = count(lambda: client.get(url, PERIOD))
    assert small == larger, (small, larger)


def test_the_pilot_list_costs_the_same_for_one_and_many_pilots(client_for, evaluator, pilot,
                                                                django_assert_max_num_queries):
    from pilots.models import Pilot

    client = client_for(evaluator)
    url = reverse("evaluation:home")
    client.get(url)
    one = count(lambda: client.get(url))
    for n in range(5):
        copy = Pilot.objects.create(name=f"Piloto {n}", code=f"piloto-{n}", community=pilot.community,
                                    start_date=pilot.start_date, funding_lines=pilot.funding_lines, objectives="x")
        copy.organisations.set(pilot.organisations.all())
    with django_assert_max_num_queries(5):
        many = count(lambda: client.get(url))
    assert one == many


@pytest.mark.parametrize("page", ["dashboard", "esf", "report", "csv", "xlsx"])
def test_a_closed_period_is_read_from_its_frozen_figures_without_computing_anything(
    page, client_for, evaluator, pilot, social_services_centre, employment_office, ngo,
    django_assert_max_num_queries,
):
    client = client_for(evaluator)
    if page in ("csv", "xlsx"):
        url = reverse("evaluation:download", args=[pilot.pk, "indicadores", page])
    else:
        url = reverse(f"evaluation:{page}", args=[pilot.pk])
    grow(pilot, social_services_centre, employment_office, ngo, 6)
    client.get(url, CLOSED_PERIOD)  # freezes the closed periods (the nightly task has not run)
    with django_assert_max_num_queries(CLOSED_PAGE_QUERIES[page]), CaptureQueriesContext(connection) as queries:
        assert client.get(url, CLOSED_PERIOD).status_code == 200
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "sharing_enrolment" not in tables and "coordination_referral" not in tables
