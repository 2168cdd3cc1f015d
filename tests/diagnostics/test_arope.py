"""AROPE indicators against households computed by hand, in Python and in SQL.

Each household states its arithmetic: consumption units on the modified OECD scale
(1 + 0.5 per other member aged 14+ + 0.3 per member under 14), income × 12 against the
threshold × units, 7 of 13 deprivation items, and months worked by members aged 18–64
(those with the field recorded) against 20 % of 12 months each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cases.models import Household, HouseholdMember
from diagnostics.arope import consumption_units, household_indicators, households_indicators
from ris.reference.models import DeprivationItem, PovertyThreshold
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ON = dt.date(
    1993, 6, 15
)  # a day with thresholds pinned by the fixture, whatever the reference data holds
THRESHOLD = Decimal("10000.00")


@pytest.fixture(autouse=True)
def thresholds():
    for year, amount in ((1990, Decimal("9000.00")), (1993, THRESHOLD)):
        PovertyThreshold.objects.create(
            survey_year=year,
            income_year=year - 1,
            one_person_eur_year=amount,
            two_adults_two_children_eur_year=amount * Decimal("2.1"),
            source="test",
        )


def household(
    members: list[tuple[int, int | None]], *, income=None, items: int = 0, on: dt.date = ON
) -> Household:
    """Members as (age on ``on``, months worked last year)."""
    h = Household.objects.create(monthly_income=income)
    for position, (age, months) in enumerate(members):
        person = PersonFactory(birth_date=on.replace(year=on.year - age) - dt.timedelta(days=3))
        HouseholdMember.objects.create(
            household=h,
            person=person,
            relationship="holder" if position == 0 else "child",
            start_date=dt.date(1980, 1, 1),
            months_worked_last_year=months,
        )
    h.deprivation_items.set(DeprivationItem.objects.order_by("code")[:items])
    return h


def both(h: Household, on: dt.date = ON):
    python = household_indicators(household_id=h.pk, on=on)
    sql = households_indicators(on=on, household_ids=[h.pk])[h.pk]
    assert sql == python
    return python


@pytest.mark.parametrize(
    ("ages", "units"),
    [
        ([40], "1"),
        ([40, 38], "1.5"),
        ([40, 38, 15, 10], "2.3"),
        ([40, 10, 5], "1.6"),
        ([12, 10], "1.3"),
        ([], "0"),
    ],
)
def test_consumption_units(ages, units):
    assert consumption_units(ages) == Decimal(units)


def test_a_family_at_risk_on_all_three_components():
    # 2 adults, a 15-year-old and a 10-year-old: 1 + 0.5 + 0.5 + 0.3 = 2.3 units.
    # 1,500 €/month × 12 = 18,000 < 10,000 × 2.3 = 23,000 → at risk (18,000 / 2.3 = 7,826.09 equivalised).
    # 7 deprivation items → severe. Months worked 2 + 0 of 24 = 8.3 % ≤ 20 % → very low intensity.
    h = household([(40, 2), (38, 0), (15, None), (10, None)], income=Decimal("1500.00"), items=7)
    result = both(h)
    assert result.consumption_units == Decimal("2.3")
    assert result.annual_income == Decimal("18000.00")
    assert result.equivalised_income == Decimal("7826.09")
    assert (result.threshold_year, result.threshold) == (1993, THRESHOLD)
    assert (
        result.at_risk_of_poverty and result.severe_deprivation and result.very_low_work_intensity
    )
    assert result.work_intensity == Decimal("0.0833")
    assert (result.minors, result.arope, result.child_poverty_risk) == (2, True, True)


@pytest.mark.parametrize(("monthly", "at_risk"), [("833.33", True), ("833.34", False)])
def test_single_adult_at_the_poverty_threshold(monthly, at_risk):
    # 1 unit: 833.33 × 12 = 9,999.96 < 10,000; 833.34 × 12 = 10,000.08 is not below.
    result = both(household([(30, 12)], income=Decimal(monthly), items=0))
    assert result.at_risk_of_poverty is at_risk
    assert (
        result.arope is at_risk and not result.child_poverty_risk
    )  # no minors: never child poverty


@pytest.mark.parametrize(("items", "severe"), [(6, False), (7, True), (13, True)])
def test_severe_deprivation_is_7_of_13(items, severe):
    result = both(household([(30, 12)], income=Decimal("5000.00"), items=items))
    assert result.deprivation_items == items
    assert result.severe_deprivation is severe and result.arope is severe


@pytest.mark.parametrize(
    ("months", "very_low"),
    [
        ([12, 0, 0, 0, 0], True),  # 12 of 60 months = exactly 20 %
        ([12, 1, 0, 0, 0], False),  # 13 of 60 = 21.7 %
        ([2], True),
        ([3], False),  # 2.4 months is 20 % of 12
    ],
)
def test_very_low_work_intensity_at_20_percent(months, very_low):
    result = both(household([(30 + i, m) for i, m in enumerate(months)], income=Decimal("9000.00")))
    assert result.very_low_work_intensity is very_low


def test_work_intensity_counts_only_members_18_to_64_with_months_recorded():
    # the 17-year-old, the 65-year-old and the student (no months recorded) are left out:
    # only the 30-year-old counts, 12 of 12 months → not low.
    result = both(household([(30, 12), (17, 0), (65, 0), (20, None)], income=Decimal("9000.00")))
    assert result.work_intensity == Decimal("1.0000") and not result.very_low_work_intensity
    nobody = both(household([(70, None), (68, None)], income=Decimal("9000.00")))
    assert nobody.work_intensity is None and not nobody.very_low_work_intensity


def test_children_only_household_and_unknown_income():
    result = both(household([(12, None), (10, None)], income=None))
    assert result.consumption_units == Decimal("1.3")
    assert result.at_risk_of_poverty is None and not result.arope


def test_the_threshold_is_the_latest_survey_year_not_after_the_assessment_year():
    day = dt.date(1992, 3, 1)
    result = both(household([(30, 12)], income=Decimal("700.00"), on=day), on=day)
    assert (result.threshold_year, result.threshold) == (1990, Decimal("9000.00"))  # 8,400 < 9,000
    assert result.at_risk_of_poverty


def test_members_who_left_or_have_not_arrived_do_not_count():
    h = household([(40, 12)], income=Decimal("1000.00"))
    HouseholdMember.objects.create(
        household=h,
        person=PersonFactory(birth_date=dt.date(1985, 1, 1)),
        relationship="partner",
        start_date=dt.date(1980, 1, 1),
        end_date=ON,
    )
    HouseholdMember.objects.create(
        household=h,
        person=PersonFactory(birth_date=dt.date(1985, 1, 1)),
        relationship="partner",
        start_date=ON + dt.timedelta(days=1),
    )
    assert both(h).members == 1


def test_the_sql_covers_every_household_at_once():
    households = [
        household([(40, 0), (10, None)], income=Decimal(str(500 + 300 * i)), items=i)
        for i in range(5)
    ]
    everything = households_indicators(on=ON)
    for h in households:
        assert everything[h.pk] == household_indicators(household_id=h.pk, on=ON)
