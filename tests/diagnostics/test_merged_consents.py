"""Consents signed on a record that was later merged count for the surviving record in the sweep.

Consents are append-only evidence: a merge leaves them on the record they were signed for
and readers follow ``Person.merged_into`` (``cases.merge``). ``sharing.policy.load_facts``
does; ``sharing.facts.load_facts_many``, which reads the facts of the sweep's
deliveries in bulk, does too, with one query for the absorbed records of all the persons.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.merge import person_merge
from consent.models import Consent
from diagnostics.models import AlertDelivery
from ris.accounts.viewer import Viewer
from sharing.facts import load_facts_many
from sharing.policy import load_facts
from tests.factories import PersonFactory

from .conftest import PREVENTION, sweep
from .test_facts import _unordered
from .test_routing import _silent_person

pytestmark = pytest.mark.django_db


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def merged_pair(world, administrator, *, consent_on_absorbed: bool):
    """A silent person attended by social services and the employment office, and a duplicate
    record of them (with the person's consent for prevention, or none) merged into it."""
    surviving = _silent_person(world, attended_by=("social", "employment"), consent=False)
    absorbed = PersonFactory()
    if consent_on_absorbed:
        world.consent(absorbed)
    person_merge(
        viewer=viewer_of(administrator),
        surviving_id=surviving.pk,
        merged_id=absorbed.pk,
        reason="Alta duplicada",
    )
    return surviving, absorbed


def delivered_to(person) -> set[int]:
    return set(
        AlertDelivery.objects.filter(alert__person=person).values_list("organisation_id", flat=True)
    )


def test_a_consent_on_the_absorbed_record_lets_the_alert_reach_the_orientador(world, administrator):
    without, _ = merged_pair(world, administrator, consent_on_absorbed=False)
    surviving, absorbed = merged_pair(world, administrator, consent_on_absorbed=True)
    assert Consent.objects.filter(person=absorbed).exists()  # the consent stays where signed
    assert not Consent.objects.filter(person=surviving).exists()
    sweep("sin_contacto")
    # without any consent no service may read the other services' diaries: nobody gets it
    assert delivered_to(without) == set()
    # the consent signed on the duplicate record is the person's consent: it counts
    assert delivered_to(surviving) == {world.social.pk, world.employment.pk}
    delivery = AlertDelivery.objects.get(alert__person=surviving, organisation=world.employment)
    assert delivery.recipient_id == world.employment_counsellor.pk


def test_the_same_facts_as_load_facts_for_a_merged_person(world, administrator):
    surviving, absorbed = merged_pair(world, administrator, consent_on_absorbed=True)
    world.consent(surviving, services=["third_sector"])  # and one of its own
    viewers = [viewer_of(u) for u in (world.social_worker, world.employment_counsellor)]
    moment = timezone.now()
    pairs = [(v, p) for v in viewers for p in (surviving.pk, absorbed.pk)]
    many = load_facts_many(pairs=pairs, purpose=PREVENTION, moment=moment)
    for (viewer, person_id), got in zip(pairs, many, strict=True):
        expected = load_facts(viewer=viewer, person_id=person_id, purpose=PREVENTION, moment=moment)
        assert _unordered(got) == _unordered(expected), (viewer.role, person_id)
    assert len(many[0].consents) == 2  # the absorbed record's and its own


def test_following_merges_costs_one_query_whatever_the_number_of_persons(world, administrator):
    viewer = viewer_of(world.employment_counsellor)

    def queries(persons) -> int:
        with CaptureQueriesContext(connection) as captured:
            load_facts_many(pairs=[(viewer, p.pk) for p in persons], purpose=PREVENTION)
        return len(captured)

    one = [merged_pair(world, administrator, consent_on_absorbed=True)[0]]
    many = [merged_pair(world, administrator, consent_on_absorbed=True)[0] for _ in range(5)]
    assert queries(one) == queries(many)
