"""The INE poverty thresholds RIS ships: each year with its source, estimates marked as such.

The series is the at-risk-of-poverty threshold of the INE Encuesta de Condiciones de Vida
(60 % of the median equivalised income, one person, €/year). Years quoted by a source are
published figures; years only derivable from a published monthly figure are loaded as
estimates (``is_estimate``), and the texts that use them say "estimación". An estimate never
replaces a published figure.
"""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest

from diagnostics.arope import poverty_threshold_for
from diagnostics.rules import RULES
from ris.reference.models import PovertyThreshold

from .conftest import open_alerts, sweep, today

pytestmark = pytest.mark.django_db

PUBLISHED = {
    2013: Decimal("8114"),  # definitive base-2013 figure, not the provisional 7,040
    2014: Decimal("7961"),
    2015: Decimal("8011"),
    2016: Decimal("8209"),
    2017: Decimal("8522"),
    2018: Decimal("8871"),
    2022: Decimal("10088"),
}
ESTIMATED = {
    2019: Decimal("9079"),
    2020: Decimal("9625"),
    2021: Decimal("9535"),
    2023: Decimal("10992"),
    2024: Decimal("11592"),
    2025: Decimal("12229"),
}


def test_the_series_loaded_by_the_migrations():
    rows = {t.survey_year: t for t in PovertyThreshold.objects.all()}
    assert {year: rows[year].one_person_eur_year for year in PUBLISHED} == PUBLISHED
    assert {year: rows[year].one_person_eur_year for year in ESTIMATED} == ESTIMATED
    assert not any(rows[year].is_estimate for year in PUBLISHED)
    assert all(rows[year].is_estimate for year in ESTIMATED)
    assert set(rows) == set(range(2013, 2026))  # every survey year, up to the latest published


def test_every_year_has_its_source_and_the_income_year_before_it():
    for threshold in PovertyThreshold.objects.all():
        assert "http" in threshold.source, threshold.survey_year
        assert threshold.income_year == threshold.survey_year - 1
        if threshold.is_estimate:
            assert threshold.source.startswith("ESTIMACIÓN:")


def test_two_adults_and_two_children_are_2_1_times_one_person_within_a_euro():
    for threshold in PovertyThreshold.objects.all():
        expected = threshold.one_person_eur_year * Decimal("2.1")
        assert abs(threshold.two_adults_two_children_eur_year - expected) <= 1, threshold


def test_the_threshold_for_a_year_is_the_latest_survey_not_after_it():
    assert poverty_threshold_for(2026).survey_year == 2025
    assert poverty_threshold_for(2026).is_estimate
    assert poverty_threshold_for(2022).one_person_eur_year == Decimal("10088")
    assert poverty_threshold_for(2020).survey_year == 2020
    assert poverty_threshold_for(2012) is None


def test_an_estimate_never_overwrites_a_published_figure():
    PovertyThreshold.objects.filter(survey_year=2023).update(
        one_person_eur_year=Decimal("11000"), is_estimate=False, source="INE https://ine.es"
    )
    loader = importlib.import_module("diagnostics.migrations.0004_poverty_threshold_estimates")
    from django.apps import apps

    loader.load(apps, None)
    published = PovertyThreshold.objects.get(survey_year=2023)
    assert (published.one_person_eur_year, published.is_estimate) == (Decimal("11000"), False)
    assert PovertyThreshold.objects.get(survey_year=2024).is_estimate


def _economy(estimate: bool) -> dict:
    return {
        "situacion_economica": {
            "annual_income": "6000.00",
            "equivalised_income": "4000.00",
            "threshold": "11592.00",
            "threshold_year": 2024,
            "threshold_is_estimate": estimate,
        }
    }


def test_the_poverty_alert_text_says_when_the_threshold_is_an_estimate():
    render = RULES["hogar_pobreza_con_menores"].render
    estimated = render(_economy(True), frozenset(), {})
    published = render(_economy(False), frozenset(), {})
    assert "ECV 2024, estimación" in estimated
    assert "estimación" not in published and "ECV 2024)" in published


def test_an_alert_from_an_estimated_threshold_carries_the_mark(world, pinned_thresholds):
    year = today().year
    PovertyThreshold.objects.filter(survey_year=year).update(is_estimate=True)
    person = world.person()
    world.household([(person, 0), (5, None)], monthly_income=Decimal("500.00"))
    sweep("hogar_pobreza_con_menores")
    alert = open_alerts("hogar_pobreza_con_menores", person).get()
    social = alert.deliveries.get(organisation=world.social)
    assert f"ECV {year}, estimación" in social.text
