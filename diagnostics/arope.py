"""Poverty and child-poverty indicators per household (EU AROPE, Europe 2030 definition).

A household is *at risk of poverty or social exclusion* (AROPE) when at least one of:

1. **At risk of poverty**: its equivalised annual income is below the national threshold
   (60 % of the median equivalised income, ``reference.PovertyThreshold``, the latest ECV
   survey year not after the assessment year). Equivalised income = the household's
   monthly income × 12 divided by its consumption units on the modified OECD scale: 1 for
   the first member aged 14 or over, 0.5 for each other member aged 14 or over, 0.3 for
   each member under 14. The comparison is made as ``income × 12 < threshold × units`` so
   that no rounding decides a borderline case.
2. **Severe material and social deprivation** (SMSD): 7 or more of the 13 EU items recorded
   for the household (``Household.deprivation_items``).
3. **Very low work intensity**: the members aged 18 to 64 with ``months_worked_last_year``
   recorded worked 20 % or less of their potential (``sum(months) ≤ 0.2 × 12 × members``).
   The field is left empty for students and for members it does not apply to, who are
   therefore excluded, as the EU definition excludes students aged 18 to 24.

Minors (under 18) in an AROPE household are at risk of child poverty.

``household_indicators`` computes one household in Python; ``households_indicators`` is
the same computation as one set-based SQL query (``HOUSEHOLDS_SQL``) for many households.
The formulas and sources are in ``docs/instruments.md``; the tests check both against
hand-computed households.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Q

from cases.models import Household, HouseholdMember
from ris.reference.models import PovertyThreshold

SMSD_MIN_ITEMS = 7
LOW_WORK_INTENSITY_RATIO = Decimal("0.20")
MINOR_AGE = 18


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def consumption_units(ages: list[int]) -> Decimal:
    """Modified OECD scale: 1 for the first member aged 14+, 0.5 for each other, 0.3 under 14."""
    older = sum(1 for a in ages if a >= 14)
    younger = len(ages) - older
    if not ages:
        return Decimal(0)
    if older:
        return Decimal(1) + Decimal("0.5") * (older - 1) + Decimal("0.3") * younger
    return Decimal(1) + Decimal("0.3") * (younger - 1)


def poverty_threshold_for(year: int) -> PovertyThreshold | None:
    """The latest ECV threshold loaded whose survey year is not after ``year`` (it may be an
    estimate: ``is_estimate``)."""
    return PovertyThreshold.objects.filter(survey_year__lte=year).order_by("-survey_year").first()


@dataclass(frozen=True)
class HouseholdIndicators:
    household_id: int
    members: int
    minors: int
    consumption_units: Decimal
    annual_income: Decimal | None
    equivalised_income: Decimal | None
    threshold_year: int | None
    threshold: Decimal | None
    at_risk_of_poverty: bool | None
    deprivation_items: int
    severe_deprivation: bool
    work_intensity: Decimal | None
    very_low_work_intensity: bool
    arope: bool
    child_poverty_risk: bool
    #: the threshold is RIS's estimate from a published figure, not INE's annual figure itself
    threshold_is_estimate: bool = False


def _indicators(
    *,
    household_id: int,
    ages: list[int],
    months: list[tuple[int, int | None]],
    monthly_income: Decimal | None,
    deprivation: int,
    threshold_year: int | None,
    threshold: Decimal | None,
    threshold_is_estimate: bool = False,
) -> HouseholdIndicators:
    units = consumption_units(ages)
    annual = None if monthly_income is None else Decimal(monthly_income) * 12
    equivalised = (
        None if annual is None or not units else (annual / units).quantize(Decimal("0.01"))
    )
    at_risk = None
    if annual is not None and threshold is not None and units:
        at_risk = annual < Decimal(threshold) * units
    workers = [m for a, m in months if 18 <= a <= 64 and m is not None]
    intensity = None
    very_low = False
    if workers:
        intensity = (Decimal(sum(workers)) / (12 * len(workers))).quantize(Decimal("0.0001"))
        very_low = sum(workers) * 100 <= 20 * 12 * len(workers)
    severe = deprivation >= SMSD_MIN_ITEMS
    arope = bool(at_risk) or severe or very_low
    minors = sum(1 for a in ages if a < MINOR_AGE)
    return HouseholdIndicators(
        household_id=household_id,
        members=len(ages),
        minors=minors,
        consumption_units=units,
        annual_income=annual,
        equivalised_income=equivalised,
        threshold_year=threshold_year,
        threshold=None if threshold is None else Decimal(threshold),
        at_risk_of_poverty=at_risk,
        deprivation_items=deprivation,
        severe_deprivation=severe,
        work_intensity=intensity,
        very_low_work_intensity=very_low,
        arope=arope,
        child_poverty_risk=arope and minors > 0,
        threshold_is_estimate=threshold_is_estimate,
    )


def household_indicators(*, household_id: int, on: dt.date) -> HouseholdIndicators:
    """The AROPE indicators of one household on a day (a few plain ORM reads)."""
    household = Household.objects.get(pk=household_id)
    members = list(
        HouseholdMember.objects.filter(household_id=household_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .values_list("person__birth_date", "months_worked_last_year")
    )
    ages = [age_on(birth, on) for birth, _ in members]
    threshold = poverty_threshold_for(on.year)
    return _indicators(
        household_id=household_id,
        ages=ages,
        months=[(age_on(birth, on), months) for birth, months in members],
        monthly_income=household.monthly_income,
        deprivation=household.deprivation_items.count(),
        threshold_year=threshold.survey_year if threshold else None,
        threshold=threshold.one_person_eur_year if threshold else None,
        threshold_is_estimate=bool(threshold and threshold.is_estimate),
    )


# --- The same computation, set-based --------------------------------------------------------

#: Members living in the household on %(today)s, with their age group. Ages are compared as
#: birth dates against the day each age is reached (``sql_parameters``), which is the same as
#: ``age_on`` and much cheaper than computing every age. ``{households}`` restricts the
#: households (an SQL condition on ``m.household_id``), or is ``TRUE``.
MEMBERS_CTE = """
members AS (
    SELECT m.household_id, m.person_id, m.months_worked_last_year,
           p.birth_date <= %(born_14)s::date AS older,
           p.birth_date > %(born_minor)s::date AS minor,
           p.birth_date <= %(born_18)s::date AS adult,
           p.birth_date <= %(born_18)s::date AND p.birth_date > %(born_65)s::date AS working_age
    FROM cases_householdmember m
    JOIN cases_person p ON p.id = m.person_id
    WHERE m.start_date <= %(today)s::date AND (m.end_date IS NULL OR m.end_date > %(today)s::date)
      AND {households}
)"""

#: One row per household of ``members``: composition, units, income, threshold, deprivation,
#: work intensity and the AROPE flags.
HOUSEHOLD_CTE = """
composition AS (
    SELECT household_id,
           count(*) AS members,
           count(*) FILTER (WHERE older) AS older,
           count(*) FILTER (WHERE NOT older) AS younger,
           count(*) FILTER (WHERE minor) AS minors,
           count(*) FILTER (WHERE working_age AND months_worked_last_year IS NOT NULL) AS workers,
           coalesce(sum(months_worked_last_year)
                    FILTER (WHERE working_age AND months_worked_last_year IS NOT NULL), 0) AS months
    FROM members GROUP BY household_id
),
threshold AS (
    SELECT survey_year, one_person_eur_year, is_estimate FROM reference_povertythreshold
    WHERE survey_year <= extract(year FROM %(today)s::date) ORDER BY survey_year DESC LIMIT 1
),
household AS (
    SELECT c.*, h.monthly_income,
           CASE WHEN c.older > 0 THEN 1 + 0.5 * (c.older - 1) + 0.3 * c.younger
                ELSE 1 + 0.3 * (c.younger - 1) END AS units,
           t.survey_year AS threshold_year, t.one_person_eur_year AS threshold,
           coalesce(t.is_estimate, false) AS threshold_is_estimate,
           (SELECT count(*) FROM cases_household_deprivation_items d WHERE d.household_id = c.household_id)
               AS deprivation
    FROM composition c
    JOIN cases_household h ON h.id = c.household_id
    LEFT JOIN threshold t ON true
),
indicators AS (
    SELECT household.*,
           CASE WHEN monthly_income IS NULL OR threshold IS NULL THEN NULL
                ELSE monthly_income * 12 < threshold * units END AS at_risk_of_poverty,
           deprivation >= %(smsd_min_items)s AS severe_deprivation,
           workers > 0 AND months * 100 <= 20 * 12 * workers AS very_low_work_intensity
    FROM household
)"""

HOUSEHOLDS_SQL = (
    "WITH "
    + MEMBERS_CTE
    + ","
    + HOUSEHOLD_CTE
    + """
SELECT household_id, members, minors, units, monthly_income, threshold_year, threshold,
       threshold_is_estimate, at_risk_of_poverty, deprivation, severe_deprivation, workers, months, very_low_work_intensity
FROM indicators
"""
)


def born_before(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone aged ``years`` or more on ``today``."""
    return today - relativedelta(years=years)


def sql_parameters(today: dt.date, minor_age: int = MINOR_AGE) -> dict:
    return {
        "today": today,
        "smsd_min_items": SMSD_MIN_ITEMS,
        "born_14": born_before(today, 14),
        "born_18": born_before(today, 18),
        "born_65": born_before(today, 65),
        "born_minor": born_before(today, minor_age),
    }


def households_indicators(
    *, on: dt.date, household_ids: list[int] | None = None
) -> dict[int, HouseholdIndicators]:
    """The indicators of many households in one SQL query (all households when no ids are given)."""
    condition = (
        "TRUE"
        if household_ids is None
        else "m.household_id IN (SELECT unnest(%(household_ids)s::bigint[]))"
    )
    params = {**sql_parameters(on), "household_ids": household_ids or []}
    with connection.cursor() as cursor:
        cursor.execute(HOUSEHOLDS_SQL.format(households=condition), params)
        rows = cursor.fetchall()
    out: dict[int, HouseholdIndicators] = {}
    for (
        household_id,
        members,
        minors,
        units,
        income,
        threshold_year,
        threshold,
        threshold_is_estimate,
        at_risk,
        deprivation,
        severe,
        workers,
        months,
        very_low,
    ) in rows:
        annual = None if income is None else Decimal(income) * 12
        units = Decimal(units)
        intensity = (
            (Decimal(months) / (12 * workers)).quantize(Decimal("0.0001")) if workers else None
        )
        arope = bool(at_risk) or severe or very_low
        out[household_id] = HouseholdIndicators(
            household_id=household_id,
            members=members,
            minors=minors,
            consumption_units=units,
            annual_income=annual,
            equivalised_income=None
            if annual is None
            else (annual / units).quantize(Decimal("0.01")),
            threshold_year=threshold_year,
            threshold=None if threshold is None else Decimal(threshold),
            at_risk_of_poverty=at_risk,
            deprivation_items=deprivation,
            severe_deprivation=severe,
            work_intensity=intensity,
            very_low_work_intensity=very_low,
            arope=arope,
            child_poverty_risk=arope and minors > 0,
            threshold_is_estimate=threshold_is_estimate,
        )
    return out
