"""The referral page shows its receiver the diagnostics of the referred categories it may see.

Coordination has no summary of the person besides the case conference's record summary, so
the diagnostics go where they help a decision: the referral detail of the receiving
organisation (``coordination.selectors.referral_diagnostics``). They come from
``diagnostics.record.diagnostics_summary``, the function that merges them into the record
page, for the referral's purpose: hidden pairs answer exactly as if there were no entry, an
indicator says only that one exists; outside the receiver's caseload nothing is shown.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.purposes import Purpose
from coordination.models import Referral
from diagnostics.models import EmployabilityAssessment, ExclusionAssessment, Instrument
from sharing.models import DisclosureLogEntry, VisibilityRule
from tests.coordination.builders import give_consent, make_referral

from .conftest import today

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
TITLE = "Valoraciones y diagnósticos que puede ver"
#: tests/coordination/test_pages.py: the most queries a coordination page may cost
QUERY_BOUND = 30


def assessment(world, person, *, notes="VALOR-VALORACION", **extra):
    return world.entry(
        ExclusionAssessment,
        person,
        by="social",
        instrument=Instrument.objects.get(code="foessa-35"),
        assessed_on=today(),
        total_score=Decimal("7.50"),
        level="moderate",
        notes=notes,
        **extra,
    )


def detail(client, referral) -> str:
    response = client.get(f"/espacio/derivaciones/{referral.pk}/")
    assert response.status_code == 200
    return CSRF.sub("", response.content.decode())


def referral_to_employment(world, person, categories=("exclusion_social", "demanda_empleo")):
    return make_referral(
        person, world.social, world.employment, world.social_worker, categories=categories
    )


def test_the_receiver_sees_the_exclusion_assessment_it_may_see(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    assessment(world, person)
    give_consent(person, organisations=[world.employment], purposes=[Purpose.REFERRAL])
    referral = referral_to_employment(world, person)

    html = detail(client_for(world.employment_counsellor), referral)
    assert TITLE in html
    assert "Valoración de la exclusión social" in html and "VALOR-VALORACION" in html
    assert "<dd>Exclusión moderada</dd>" in html
    assert f'<time datetime="{today().isoformat()}">{today():%d/%m/%Y}</time>' in html
    assert DisclosureLogEntry.objects.filter(
        person=person,
        organisation=world.employment,
        category="exclusion_social",
        event="disclosure",
        purpose=Purpose.REFERRAL,
    ).exists()
    # the sender wrote the referral from its own record: no summary on its side
    assert TITLE not in detail(client_for(world.social_worker), referral)


def test_without_a_basis_the_page_is_the_same_as_without_an_assessment(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    referral = referral_to_employment(world, person)
    client = client_for(world.employment_counsellor)
    before = detail(client, referral)
    assessment(world, person, notes="VALOR-OCULTO")
    after = detail(client, referral)
    assert after == before and TITLE not in after and "VALOR-OCULTO" not in after
    # a consent that excludes the category hides it the same way
    give_consent(
        person,
        organisations=[world.employment],
        purposes=[Purpose.REFERRAL],
        denied=["exclusion_social"],
    )
    assert detail(client, referral) == before


def test_only_the_referred_categories_are_shown(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    assessment(world, person, notes="VALOR-NO-DERIVADO")
    give_consent(person, organisations=[world.employment], purposes=[Purpose.REFERRAL])
    referral = referral_to_employment(world, person, categories=("demanda_empleo",))
    html = detail(client_for(world.employment_counsellor), referral)
    assert TITLE not in html and "VALOR-NO-DERIVADO" not in html


def test_a_receiver_outside_the_caseload_sees_none_before_accepting(client_for, world):
    person = world.person(attended_by=("social",))
    assessment(world, person, notes="VALOR-ANTES")
    give_consent(person, organisations=[world.employment], purposes=[Purpose.REFERRAL])
    referral = referral_to_employment(world, person)
    html = detail(client_for(world.employment_counsellor), referral)
    assert referral.person.full_name in html  # the consent lets it know who is referred…
    assert TITLE not in html and "VALOR-ANTES" not in html  # …not their data (sharing decides)


def test_at_indicator_level_the_receiver_only_learns_that_one_exists(client_for, world):
    VisibilityRule.objects.filter(
        role="employment_counsellor", category_id="exclusion_social"
    ).update(level="indicator")
    person = world.person(attended_by=("social", "employment"))
    assessment(world, person, notes="VALOR-INDICADOR")
    give_consent(person, organisations=[world.employment], purposes=[Purpose.REFERRAL])
    referral = referral_to_employment(world, person)
    html = detail(client_for(world.employment_counsellor), referral)
    assert TITLE in html
    assert "Hay información en el área «Situación de exclusión social» registrada por " in html
    assert "VALOR-INDICADOR" not in html and "7,5" not in html and "7.50" not in html
    assert f"{today():%d/%m/%Y}</time>" not in html


def test_the_page_costs_the_same_with_one_assessment_or_many(client_for, world):
    counts = []
    for n in (1, 10):
        person = world.person(attended_by=("social", "employment"))
        for i in range(n):
            assessment(world, person, notes=f"n{i}")
        world.entry(
            EmployabilityAssessment,
            person,
            by="employment",
            assessed_on=today(),
            level="low",
            suggested_level="low",
            age=40,
        )
        give_consent(person, organisations=[world.employment], purposes=[Purpose.REFERRAL])
        referral = referral_to_employment(
            world, person, categories=("exclusion_social", "empleabilidad")
        )
        client = client_for(world.employment_counsellor)
        detail(client, referral)  # warm the session
        with CaptureQueriesContext(connection) as captured:
            detail(client, referral)
        counts.append(len(captured))
    assert counts[0] == counts[1] and counts[0] <= QUERY_BOUND, counts
    assert Referral.objects.count() == 2
