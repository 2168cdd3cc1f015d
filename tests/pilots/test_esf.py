"""ESF+ common indicators for participants (Regulation (EU) 2021/1057, Annex I), worked out by hand.

Participants enter the pilot in January–June 2026 (their first enrolment in a pilot
organisation); their characteristics are those on the day of entry. Leavers have every
pilot enrolment closed, the last one in the period; "upon leaving" is within 4 weeks.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cases.models import (
    ActivePolicyItinerary,
    CompanyIntermediation,
    HealthRecord,
    Household,
    HouseholdMember,
    JobSeekerRecord,
    SocialFolderIntervention,
)
from pilots.esf import leavers_table, participants_table
from pilots.sdc import SUPPRESSED
from ris.reference.models import EducationLevel
from tests.factories import HouseholdFactory, PersonFactory, make_section_entry

from .conftest import enrol_on

pytestmark = pytest.mark.django_db

ENTRY = dt.date(2026, 2, 1)


def isced(level: int) -> EducationLevel:
    return EducationLevel.objects.filter(isced_level=level).order_by("code").first()


def job_seeker(person, office, status, registered, since=None):
    return make_section_entry(JobSeekerRecord, person=person, organisation=office, status=status,
                              registered_on=registered, unemployed_since=since)


@pytest.fixture
def participants(social_services_centre, employment_office):
    s, e = social_services_centre, employment_office
    p1 = PersonFactory(sex="F", birth_date=dt.date(1990, 3, 1), education_level=isced(2))  # 35
    job_seeker(p1, e, "unemployed", dt.date(2025, 1, 10), dt.date(2024, 6, 1))  # 20 months: long-term
    p2 = PersonFactory(sex="F", birth_date=dt.date(2003, 5, 1), education_level=isced(3), nationality="MA")  # 22
    job_seeker(p2, e, "unemployed", dt.date(2025, 10, 1), dt.date(2025, 10, 1))  # 4 months, under 25: not yet
    p3 = PersonFactory(sex="M", birth_date=dt.date(2004, 1, 1), education_level=isced(5), nationality="RO")  # 22
    job_seeker(p3, e, "unemployed", dt.date(2025, 6, 1), dt.date(2025, 6, 1))  # 8 months, under 25: long-term
    p4 = PersonFactory(sex="M", birth_date=dt.date(1965, 1, 1))  # 61, no education recorded
    job_seeker(p4, e, "employed", dt.date(2025, 3, 3))
    make_section_entry(HealthRecord, person=p4, organisation=s, disability_degree=45)
    p5 = PersonFactory(sex="X", birth_date=dt.date(2010, 1, 1), education_level=isced(1))  # 16
    home = HouseholdFactory(housing_tenure=Household.Tenure.NONE)
    HouseholdMember.objects.create(household=home, person=p5, relationship="holder", start_date=dt.date(2025, 6, 1))
    p6 = PersonFactory(sex="F", birth_date=dt.date(1980, 7, 7), education_level=isced(7))  # 45
    job_seeker(p6, e, "not_registered", dt.date(2025, 11, 11))
    make_section_entry(HealthRecord, person=p6, organisation=s, disability_degree=20)
    HouseholdMember.objects.create(household=HouseholdFactory(housing_tenure=Household.Tenure.RENTED), person=p6,
                                   relationship="holder", start_date=dt.date(2020, 1, 1))
    p8 = PersonFactory(sex="M", birth_date=dt.date(1995, 1, 1))  # 31
    job_seeker(p8, e, "employed", dt.date(2026, 5, 1))  # registered after entry: unknown on entry
    for person in (p1, p2, p3, p4, p5, p6, p8):
        enrol_on(person, s, ENTRY)
    p7 = PersonFactory(sex="F", birth_date=dt.date(1970, 1, 1))
    enrol_on(p7, e, dt.date(2025, 12, 1))  # entered before the period
    enrol_on(p7, s, dt.date(2026, 3, 1))
    return [p1, p2, p3, p4, p5, p6, p7, p8]


def totals(table) -> dict[str, int]:
    return {row.indicator.code: row.total.value for row in table.rows}


def test_participants_by_labour_market_situation_age_education_and_disadvantage(scope, participants):
    got = totals(participants_table(scope, protected=False))
    assert got == {
        "total": 7,
        "unemployed": 3, "long_term_unemployed": 2, "inactive": 1, "employed": 1, "labour_unknown": 2,
        "below_18": 1, "age_18_29": 2, "age_30_54": 3, "age_55_plus": 1,
        "isced_0_2": 2, "isced_3_4": 1, "isced_5_8": 2, "isced_unknown": 2,
        "disability": 1, "third_country": 1, "homeless": 1,
    }


def test_the_partitions_add_up_to_the_total(scope, participants):
    got = totals(participants_table(scope, protected=False))
    assert got["unemployed"] + got["inactive"] + got["employed"] + got["labour_unknown"] == got["total"]
    assert got["below_18"] + got["age_18_29"] + got["age_30_54"] + got["age_55_plus"] == got["total"]
    assert got["isced_0_2"] + got["isced_3_4"] + got["isced_5_8"] + got["isced_unknown"] == got["total"]


def test_participants_are_broken_down_by_sex(scope, participants):
    table = participants_table(scope, protected=False)
    total = table.row("total")
    assert {sex: c.value for sex, c in total.cells.items()} == {"F": 3, "M": 3, "X": 1}
    unemployed = table.row("unemployed")
    assert {sex: c.value for sex, c in unemployed.cells.items()} == {"F": 2, "M": 1, "X": 0}


def test_the_published_table_suppresses_small_cells(scope, participants):
    table = participants_table(scope)
    assert table.row("total").total.shown == 7
    assert table.row("total").cells["F"].shown == SUPPRESSED
    assert table.row("disability").total.shown == SUPPRESSED
    for row in table.rows:
        for cell in (*row.cells.values(), row.total):
            assert cell.shown == SUPPRESSED or cell.shown == 0 or cell.persons >= 5


def test_leavers_and_their_situation_upon_leaving(scope, social_services_centre, employment_office):
    s, e = social_services_centre, employment_office
    l1, l2, l3, l4, l5 = (PersonFactory(sex=sex) for sex in "FMFMF")
    enrol_on(l1, s, dt.date(2025, 10, 1), dt.date(2026, 3, 15))
    make_section_entry(CompanyIntermediation, person=l1, organisation=s, date=dt.date(2026, 3, 20),
                       company="Conservas del Duero", position="Mozo", outcome="hired")  # 5 days after leaving
    enrol_on(l2, s, dt.date(2026, 1, 10), dt.date(2026, 4, 30))
    enrol_on(l2, e, dt.date(2026, 2, 1), dt.date(2026, 5, 31))
    job_seeker(l2, e, "unemployed", dt.date(2026, 2, 1), dt.date(2025, 12, 1))
    make_section_entry(ActivePolicyItinerary, person=l2, organisation=e, programme="Formación en logística",
                       start_date=dt.date(2026, 5, 15), status="active")
    enrol_on(l3, s, dt.date(2026, 1, 10), dt.date(2026, 2, 28))
    enrol_on(l3, e, dt.date(2026, 2, 1))  # still attended: not a leaver
    enrol_on(l4, s, dt.date(2026, 1, 10), dt.date(2026, 8, 1))  # leaves after the period
    enrol_on(l5, s, dt.date(2026, 1, 10), dt.date(2026, 6, 10))
    make_section_entry(SocialFolderIntervention, person=l5, organisation=s, date=dt.date(2026, 7, 20),
                       kind="training", description="Curso")  # 40 days later: not "upon leaving"
    make_section_entry(CompanyIntermediation, person=l5, organisation=s, date=dt.date(2026, 9, 1),
                       company="Hostelería", position="Camarera", outcome="hired")  # too late
    job_seeker(l5, e, "employed", dt.date(2026, 6, 20))  # 10 days after leaving: employed

    got = totals(leavers_table(scope, protected=False))
    assert got == {"leavers": 3, "job_searching": 1, "in_education": 1, "in_employment": 2}


def test_a_person_attended_before_the_pilot_started_enters_on_its_first_day(pilot, social_services_centre):
    from pilots.selectors import scope_for

    veteran = PersonFactory(birth_date=dt.date(2008, 1, 1))  # 17 when the pilot starts, 18 on 01/01/2026
    enrol_on(veteran, social_services_centre, dt.date(2024, 3, 1))
    assert pilot.start_date == dt.date(2025, 10, 1)
    first_quarter = scope_for(pilot=pilot, start=dt.date(2025, 10, 1), end=dt.date(2025, 12, 31))
    table = participants_table(first_quarter, protected=False)
    assert table.row("total").total.value == 1
    assert table.row("below_18").total.value == 1  # age on entry (01/10/2025), not on enrolment
    later = scope_for(pilot=pilot, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))
    assert participants_table(later, protected=False).row("total").total.value == 0
