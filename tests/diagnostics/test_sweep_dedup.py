"""Running the sweep again opens nothing and delivers nothing a second time.

Three persons for whom every rule fires, both household rules included, so that the
whole-population sweep takes its shared path (every household computed once for both rules:
``diagnostics.rules.share_households``). One has a reference professional in each
organisation that attends them; one has none at social services (the centre's queue) and an
unemployment benefit restricted at origin; one has a consent that does not cover prevention,
so that most organisations attending them see some category hidden and receive nothing (the
sweep must not try to make up for those deliveries either).
The sweep runs over everybody, then for these persons alone, then over everybody again: each
rule and person keeps one unresolved alert, each organisation one delivery of it, and the
second sweep reports nothing created and nothing resolved.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from diagnostics import services
from diagnostics.models import UNRESOLVED, Alert, AlertDelivery, AlertRule
from diagnostics.rules import RULES
from diagnostics.services import _households_to_share, alerts_evaluate
from ris.reference.models import AutonomousCommunity
from sharing.models import Enrolment, SharingAgreement

from .conftest import PREVENTION, fires, fires_in_sweep, today
from .test_alert_texts import _at_risk_person

pytestmark = pytest.mark.django_db

HOUSEHOLD_RULES = ("hogar_pobreza_con_menores", "posible_beneficiario_imv")


@pytest.fixture
def persons(world, pinned_thresholds):
    SharingAgreement.objects.create(
        organisation=world.ngo,
        title="Convenio",
        community=AutonomousCommunity.objects.get(code="07"),
        categories=["unidad_convivencia", "exclusion_social", "atenciones"],
        purposes=[PREVENTION],
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=90),
        processing_terms="art. 28 RGPD",
    )
    return [
        _at_risk_person(world, social_professional=True, restricted_benefit=False, consent="all"),
        _at_risk_person(world, social_professional=False, restricted_benefit=True, consent="all"),
        _at_risk_person(world, social_professional=True, restricted_benefit=False, consent="none"),
    ]


@pytest.fixture
def shared_sweeps(monkeypatch):
    """How many times a sweep computed the shared households."""
    calls = []
    original = services.share_households

    def counting(today, minor_age):
        calls.append(minor_age)
        return original(today, minor_age)

    monkeypatch.setattr(services, "share_households", counting)
    return calls


def unresolved(persons) -> Counter:
    return Counter(
        Alert.objects.filter(person__in=persons, state__in=UNRESOLVED).values_list(
            "rule__code", "person_id"
        )
    )


def deliveries(persons) -> Counter:
    return Counter(
        AlertDelivery.objects.filter(alert__person__in=persons).values_list(
            "alert_id", "organisation_id"
        )
    )


def test_every_rule_fires_for_the_persons_and_the_household_rules_share_their_households(
    persons,
):
    for person in persons:
        assert {code for code in RULES if fires(code, person)} == set(RULES)
        assert {code for code in RULES if fires_in_sweep(code, person)} == set(RULES)
    active = list(AlertRule.objects.filter(is_active=True))
    assert {r.code for r in active} >= set(HOUSEHOLD_RULES)
    assert _households_to_share(active)


@pytest.mark.parametrize("seen", [False, True], ids=["open", "acknowledged"])
def test_sweeping_again_creates_no_second_alert_and_no_second_delivery(
    persons, shared_sweeps, seen
):
    first = alerts_evaluate()
    assert shared_sweeps  # the whole-population sweep took the shared-household path
    assert not first.summary()["skipped"]
    every = {(code, person.pk) for code in RULES for person in persons}
    assert unresolved(persons) == Counter(every)
    delivered = deliveries(persons)
    assert delivered and set(delivered.values()) == {1}
    # some organisations attending the third person received nothing of some alerts
    attending = set(
        Enrolment.objects.filter(person=persons[2]).values_list("organisation_id", flat=True)
    )
    assert any(
        {org for (alert, org) in delivered if alert == alert_id} < attending
        for alert_id in Alert.objects.filter(person=persons[2]).values_list("pk", flat=True)
    )
    alert_ids = set(Alert.objects.filter(person__in=persons).values_list("pk", flat=True))
    delivery_ids = set(
        AlertDelivery.objects.filter(alert__person__in=persons).values_list("pk", flat=True)
    )
    if seen:  # an alert someone has seen is still unresolved: it is not opened again
        Alert.objects.filter(person=persons[0]).update(state="acknowledged")

    shared_before = len(shared_sweeps)
    between = alerts_evaluate(person_ids=[p.pk for p in persons])
    assert len(shared_sweeps) == shared_before  # a person's evaluation computes their households
    again = alerts_evaluate()
    assert len(shared_sweeps) > shared_before

    for result in (between, again):
        summary = result.summary()
        assert (summary["created"], summary["resolved"], summary["deliveries"]) == (0, 0, 0)
        assert not summary["skipped"]
        assert {o.code for o in result.outcomes} == set(RULES)
    assert unresolved(persons) == Counter(every)
    assert set(Alert.objects.filter(person__in=persons).values_list("pk", flat=True)) == alert_ids
    assert deliveries(persons) == delivered
    assert (
        set(AlertDelivery.objects.filter(alert__person__in=persons).values_list("pk", flat=True))
        == delivery_ids
    )


def test_the_second_sweep_reports_nothing_for_each_rule(persons):
    alerts_evaluate()
    again = alerts_evaluate()
    assert [(o.code, o.created, o.resolved, o.deliveries) for o in again.outcomes] == [
        (code, 0, 0, 0) for code in sorted(RULES)
    ]
    assert (again.summary()["created"], again.summary()["resolved"]) == (0, 0)
