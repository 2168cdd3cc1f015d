"""The nightly sweep counts every household once for the rules built on households.

The poverty-with-minors rule and the possible-IMV rule both start from every household's
composition and income. Over the whole population the sweep computes those households once
(two temporary tables of its database session) and both rules read them; a person's own
evaluation computes just that person's households, as before. Either way the alerts are the
ones each rule finds on its own, and nothing of the shared tables outlives the sweep.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diagnostics import rules as rules_module
from diagnostics.models import Alert, AlertRule
from diagnostics.services import _households_to_share, alerts_evaluate, rule_hits

from .conftest import rule

pytestmark = pytest.mark.django_db

HOUSEHOLD_RULES = ("hogar_pobreza_con_menores", "posible_beneficiario_imv")


def _shared_table_exists(age: int = 18) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
            [f"pg_temp.ris_sweep_members_{age}", f"pg_temp.ris_sweep_households_{age}"],
        )
        members, households = cursor.fetchone()
    return members or households


def _households(world):
    """A poor household with a 17-year-old, an IMV household, and one above both thresholds."""
    poor = world.person()
    world.household([(poor, 0), (17, None)], monthly_income=Decimal("400.00"))
    imv = world.person()
    world.household([(imv, 0), (30, 0)], monthly_income=Decimal("100.00"))
    comfortable = world.person()
    world.household([(comfortable, 12), (8, None)], monthly_income=Decimal("6000.00"))
    return poor, imv, comfortable


def _opened(code: str) -> set[int]:
    return set(
        Alert.objects.filter(rule__code=code, state="open").values_list("person_id", flat=True)
    )


def test_the_sweep_computes_the_households_once_and_both_rules_read_them(world, pinned_thresholds):
    poor, imv, comfortable = _households(world)
    with CaptureQueriesContext(connection) as queries:
        alerts_evaluate()
    statements = [q["sql"] for q in queries.captured_queries]
    created = [s for s in statements if "CREATE TEMPORARY TABLE ris_sweep_households_18" in s]
    readers = [s for s in statements if "FROM pg_temp.ris_sweep_households_18" in s]
    assert len(created) == 1
    assert len(readers) == len(HOUSEHOLD_RULES)
    assert poor.pk in _opened("hogar_pobreza_con_menores")
    assert imv.pk in _opened("posible_beneficiario_imv")
    assert comfortable.pk not in _opened("hogar_pobreza_con_menores") | _opened(
        "posible_beneficiario_imv"
    )


def test_the_shared_households_give_the_alerts_each_rule_finds_on_its_own(world, pinned_thresholds):
    _households(world)
    alerts_evaluate()
    for code in HOUSEHOLD_RULES:
        assert _opened(code) == set(rule_hits(rule(code))), code


def test_nothing_of_the_shared_tables_outlives_the_sweep(world, pinned_thresholds):
    _households(world)
    alerts_evaluate()
    assert not _shared_table_exists()


def test_a_failing_rule_still_leaves_no_shared_tables(world, pinned_thresholds, monkeypatch):
    """The broken rule is rolled back alone and reported; the other household rule, which read the
    same shared tables, still opens its alerts; and the tables are dropped."""
    poor, _, _ = _households(world)
    definition = rules_module.RULES["posible_beneficiario_imv"]

    def broken(params, ctx):
        sql, facts, extra = definition.build(params, ctx)
        return sql.replace("FROM indicators i", "FROM no_such_table i"), facts, extra

    monkeypatch.setitem(
        rules_module.RULES,
        "posible_beneficiario_imv",
        rules_module.RuleDef(**{**definition.__dict__, "build": broken}),
    )
    result = alerts_evaluate()
    assert result.failed
    assert set(result.summary()["errors"]) == {"posible_beneficiario_imv"}
    assert "no_such_table" in result.summary()["errors"]["posible_beneficiario_imv"]
    assert poor.pk in _opened("hogar_pobreza_con_menores")
    assert not _opened("posible_beneficiario_imv")
    assert not _shared_table_exists()


def test_a_person_s_evaluation_computes_only_their_households(world, pinned_thresholds):
    poor, _, _ = _households(world)
    with CaptureQueriesContext(connection) as queries:
        alerts_evaluate(person_ids=[poor.pk])
    assert not any("ris_sweep_" in q["sql"] for q in queries.captured_queries)
    assert poor.pk in _opened("hogar_pobreza_con_menores")


def test_rules_that_count_minors_differently_each_count_their_own(world, pinned_thresholds):
    # with minors under 17 the 17-year-old is an adult: 1.5 units either way, but no minor
    AlertRule.objects.filter(code="hogar_pobreza_con_menores").update(thresholds={"minor_age": 17})
    rules = list(AlertRule.objects.filter(is_active=True))
    assert _households_to_share(rules) == frozenset()
    poor, imv, _ = _households(world)
    with CaptureQueriesContext(connection) as queries:
        alerts_evaluate()
    assert not any("ris_sweep_" in q["sql"] for q in queries.captured_queries)
    assert poor.pk not in _opened("hogar_pobreza_con_menores")
    assert imv.pk in _opened("posible_beneficiario_imv")


def test_only_rules_that_run_are_counted_for_sharing(world):
    AlertRule.objects.filter(code="posible_beneficiario_imv").update(is_active=False)
    assert _households_to_share(list(AlertRule.objects.filter(is_active=True))) == frozenset()
    AlertRule.objects.filter(code="posible_beneficiario_imv").update(is_active=True)
    assert _households_to_share(list(AlertRule.objects.filter(is_active=True))) == {18}
