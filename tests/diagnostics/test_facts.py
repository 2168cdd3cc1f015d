"""``load_facts_many`` reads, for many pairs at once, exactly what ``sharing.policy.load_facts`` reads.

A world with every kind of basis (consents to the organisation and to the service,
denied categories, revoked and expired consents, legal bases in their modes, an
objection, the minimum-income condition, an NGO agreement, an emergency access, a
person outside every caseload) is read both ways for every viewer × person pair.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import MinimumIncome
from consent.models import ConsentRevocation, LegalBasis, Objection
from consent.purposes import Purpose
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from ris.reference.models import AutonomousCommunity
from sharing.facts import load_facts_many
from sharing.models import BreakGlassAccess, SharingAgreement
from sharing.policy import load_facts
from tests.factories import MembershipFactory, PersonFactory, enrol

from .conftest import PREVENTION, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(world, coordinator, evaluator):
    cyl = AutonomousCommunity.objects.get(code="07")
    persons = [world.person(attended_by=("social", "employment", "ngo")) for _ in range(4)]
    outsider_person = PersonFactory()
    p0, p1, p2, p3 = persons
    # consents: to the employment office itself; to a service; with denied categories; revoked; expired
    c0 = world.consent(p0, services=[], purposes=(PREVENTION, Purpose.FOLLOW_UP))
    c0.grantee_organisations.add(world.employment)
    world.consent(
        p1,
        services=["employment", "third_sector"],
        denied_categories=["salud", "situacion_economica"],
    )
    revoked = world.consent(p2, recorded_at=timezone.now() - dt.timedelta(days=3))
    ConsentRevocation.objects.create(
        consent=revoked, revoked_by=world.social_worker, channel="in_person"
    )
    world.consent(
        p2,
        valid_from=today() - dt.timedelta(days=400),
        given_on=today() - dt.timedelta(days=400),
        valid_until=today() - dt.timedelta(days=1),
        recorded_at=timezone.now() - dt.timedelta(days=2),
    )
    world.consent(
        p3,
        all_categories=False,
        permitted_categories=["exclusion_social", "atenciones"],
        recorded_at=timezone.now() - dt.timedelta(days=1),
    )
    world.consent(p3, all_categories=False, permitted_categories=["demanda_empleo"])
    # legal bases: by law; unless objection (objected by p1); minimum-income condition (p2 receives it)
    common = {"community": cyl, "purposes": [PREVENTION], "reference": "Ley de prueba"}
    LegalBasis.objects.create(
        name="A",
        from_service="social",
        to_service="employment",
        categories=["rentas_minimas", "exclusion_social"],
        mode="by_law",
        **common,
    )
    objected = LegalBasis.objects.create(
        name="B",
        from_service="employment",
        to_service="social",
        categories=["demanda_empleo"],
        mode="unless_objection",
        **common,
    )
    LegalBasis.objects.create(
        name="C",
        from_service="social",
        to_service="third_sector",
        categories=["unidad_convivencia"],
        mode="by_law",
        condition="minimum_income",
        **common,
    )
    LegalBasis.objects.create(
        name="D",
        from_service="social",
        to_service="employment",
        categories=["salud"],
        mode="consent_only",
        **common,
    )
    Objection.objects.create(person=p1, legal_basis=objected, recorded_by=world.social_worker)
    world.entry(
        MinimumIncome,
        p2,
        by="social",
        scheme="imv",
        status="granted",
        start_date=today() - dt.timedelta(days=30),
        end_date=None,
    )
    SharingAgreement.objects.create(
        organisation=world.ngo,
        title="Convenio",
        community=cyl,
        categories=["unidad_convivencia", "atenciones"],
        purposes=[PREVENTION, Purpose.FOLLOW_UP.value],
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=10),
        processing_terms="art. 28 RGPD",
    )
    # an emergency access of the social worker to a person nobody attends
    BreakGlassAccess.objects.create(
        user=world.social_worker,
        organisation=world.social,
        person=outsider_person,
        reason="Urgencia",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    other_office = MembershipFactory(role=Role.EMPLOYMENT_COUNSELLOR).organisation
    enrol(p3, other_office)
    viewers = [
        Viewer.from_membership(m)
        for m in (
            world.social_worker.memberships.get(),
            world.employment_counsellor.memberships.get(),
            world.ngo_technician.memberships.get(),
            coordinator.memberships.get(),
            evaluator.memberships.get(),
            other_office.memberships.get(),
        )
    ]
    return viewers, [*persons, outsider_person]


def _unordered(facts):
    """``load_facts`` reads consents with an aggregate, so without an order: compare them as a set."""
    return dataclasses.replace(facts, consents=tuple(sorted(facts.consents, key=lambda c: c.id)))


@pytest.mark.parametrize("purpose", [PREVENTION, Purpose.FOLLOW_UP.value, Purpose.EVALUATION.value])
def test_the_same_facts_as_load_facts_for_every_pair(varied, purpose):
    viewers, persons = varied
    moment = timezone.now()
    pairs = [(v, p.pk) for v in viewers for p in persons]
    many = load_facts_many(pairs=pairs, purpose=purpose, moment=moment)
    one_by_one = [
        load_facts(viewer=v, person_id=p, purpose=purpose, moment=moment) for v, p in pairs
    ]
    for pair, got, expected in zip(pairs, many, one_by_one, strict=True):
        assert _unordered(got) == _unordered(expected), pair
    assert any(f.break_glass_id for f in many) and any(f.objected_basis_ids for f in many)
    assert any(f.receives_minimum_income for f in many)
    if purpose != Purpose.EVALUATION.value:
        assert any(f.agreement_categories for f in many)


def test_the_number_of_queries_does_not_grow_with_the_pairs(varied):
    """For pairs inside the caseload; one outside it is read by ``load_facts`` itself."""
    viewers, persons = varied
    viewers, persons = (
        viewers[:4],
        persons[:-1],
    )  # the four staff viewers attend the first four persons

    def queries(pairs) -> int:
        with CaptureQueriesContext(connection) as captured:
            load_facts_many(pairs=pairs, purpose=PREVENTION)
        return len(captured)

    few = queries([(viewers[0], persons[0].pk), (viewers[2], persons[1].pk)])
    many = queries([(v, p.pk) for v in viewers for p in persons])
    assert (
        many <= few + 2
    )  # the matrix once per role and community: four roles here, two in the few
    assert load_facts_many(pairs=[], purpose=PREVENTION) == []
