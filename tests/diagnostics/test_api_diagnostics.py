"""The diagnostics entries through the JSON API, exactly as the record page shows them.

``GET /api/v1/persons/{id}/record/?purpose=`` builds the record with
``diagnostics.record.record_with_diagnostics``, the function of the record page: an
assessment, diagnosis or screening is under the (category, recording service) pair it
belongs to, at the level ``sharing.policy`` decides; hidden answers exactly as if there
were no entry, an indicator says only that information exists (no values, dates or
counts). ``profiling`` is the proposal computed from what the response shows in full.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from consent.purposes import Purpose
from diagnostics.models import (
    BasicEmployabilityScreening,
    EmployabilityAssessment,
    ExclusionAssessment,
    Instrument,
)
from sharing.models import DisclosureLogEntry, VisibilityRule
from tests.sharing.test_record_queries import QUERY_BOUND

from .conftest import today

pytestmark = pytest.mark.django_db

FOLLOW_UP = Purpose.FOLLOW_UP.value
EXCLUSION = ("exclusion_social", "social")


def api(client, person, purpose=FOLLOW_UP) -> dict:
    response = client.get(f"/api/v1/persons/{person.pk}/record/", {"purpose": purpose})
    assert response.status_code == 200, response.content[:500]
    return response.json()


def pairs(data: dict) -> dict[tuple[str, str], dict]:
    return {(c["code"], c["owner_service"]): c for c in data["categories"]}


def without_person(data: dict) -> str:
    """The response without what two persons in the same situation differ in (the basic sheet,
    the id of the consent that is the basis), as bytes to compare."""
    rest = {k: v for k, v in data.items() if k != "person"}
    text = json.dumps(rest, sort_keys=True)
    for category in data["categories"]:
        if category["basis"]["kind"] == "consent":
            text = text.replace(json.dumps(category["basis"], sort_keys=True), '"consent"')
    return text


def assessment(world, person, *, level="moderate", notes="VALOR-VALORACION", **extra):
    return world.entry(
        ExclusionAssessment,
        person,
        by="social",
        instrument=Instrument.objects.get(code="foessa-35"),
        assessed_on=extra.pop("assessed_on", today()),
        total_score=Decimal("7.50"),
        level=level,
        notes=notes,
        **extra,
    )


def consent_to_employment(world, person):
    return world.consent(person, services=["employment"], purposes=(FOLLOW_UP,))


def test_an_orientador_with_consent_reads_the_exclusion_level_of_social_services(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    entry = assessment(world, person)
    world.entry(
        EmployabilityAssessment,
        person,
        by="employment",
        assessed_on=today(),
        level="low",
        suggested_level="low",
        age=50,
    )
    consent_to_employment(world, person)
    data = api(client_for(world.employment_counsellor), person)

    block = pairs(data)[EXCLUSION]
    assert block["level"] == "full" and block["basis"]["kind"] == "consent"
    [shown] = [e for e in block["entries"] if e["id"] == entry.pk]
    values = {f["name"]: f["value"] for f in shown["fields"]}
    assert shown["type"] == "valoración de la exclusión social"
    assert values["level"] == "moderate" and values["notes"] == "VALOR-VALORACION"
    assert values["total_score"] == "7.50" and values["assessed_on"] == today().isoformat()
    # the employment service's own diagnosis, with the factors that explain the suggestion
    own = pairs(data)[("empleabilidad", "employment")]
    [diagnosis] = [e for e in own["entries"] if e["type"] == "diagnóstico de empleabilidad"]
    factors = {f["name"]: f["value"] for f in diagnosis["fields"]}["suggestion_factors"]
    assert "sin permiso de conducir (+1)" in factors
    # the profiling proposal, from what the response shows in full
    assert data["profiling"]["exclusion_level"] == "moderate"
    assert data["profiling"]["employability_level"] == "low"
    assert data["profiling"]["lead"] == "social"
    # what the API shows of another service is in the disclosure log, channel "api"
    assert DisclosureLogEntry.objects.filter(
        person=person, channel="api", category="exclusion_social", level="full"
    ).exists()


def test_the_api_and_the_record_page_show_the_same_assessment(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    assessment(world, person, notes="VALOR-COMPARTIDO")
    consent_to_employment(world, person)
    client = client_for(world.employment_counsellor)
    data = api(client, person)
    page = client.get(f"/espacio/personas/{person.pk}/", {"finalidad": FOLLOW_UP}).content.decode()
    assert "VALOR-COMPARTIDO" in json.dumps(data, ensure_ascii=False) and "VALOR-COMPARTIDO" in page


def test_without_consent_the_assessment_is_absent_exactly_as_if_there_were_none(client_for, world):
    client = client_for(world.employment_counsellor)
    with_entry = world.person(attended_by=("social", "employment"))
    assessment(world, with_entry, notes="VALOR-OCULTO")
    BasicEmployabilityScreening.objects.create(
        person=with_entry,
        recorded_by_service="social",
        recorded_by_org=world.social,
        screened_on=today(),
        has_work_experience=True,
        completed_compulsory_education=False,
        speaks_spanish=True,
        available_for_work=True,
        has_driving_licence=False,
        basic_digital_skills=False,
        result="medium",
        notes="VALOR-CRIBADO-OCULTO",
    )
    without_entry = world.person(attended_by=("social", "employment"))

    hidden, empty = api(client, with_entry), api(client, without_entry)
    assert EXCLUSION not in pairs(hidden) and ("empleabilidad", "social") not in pairs(hidden)
    assert "VALOR-OCULTO" not in json.dumps(hidden) and "CRIBADO" not in json.dumps(hidden)
    assert without_person(hidden) == without_person(empty)
    assert hidden["person"].keys() == empty["person"].keys()
    reasons = {(i["code"], i["owner_service"]): i["reason"] for i in hidden["not_visible"]}
    assert reasons[EXCLUSION] == "no_basis"
    assert hidden["profiling"]["exclusion_level"] is None
    assert hidden["profiling"]["lead"] is None
    assert (
        not DisclosureLogEntry.objects.filter(person=with_entry, category="exclusion_social")
        .exclude(event="refused")
        .exists()
    )


def test_at_indicator_level_only_the_existence_is_shown(client_for, world):
    VisibilityRule.objects.filter(
        role="employment_counsellor", category_id="exclusion_social"
    ).update(level="indicator")
    client = client_for(world.employment_counsellor)
    one, three = (world.person(attended_by=("social", "employment")) for _ in range(2))
    for person in (one, three):
        consent_to_employment(world, person)
    assessment(world, one, level="severe", notes="VALOR-INDICADOR")
    for days in (0, 40, 400):
        assessment(
            world, three, level="risk", assessed_on=today() - dt.timedelta(days=days), notes="x"
        )

    data = api(client, one)
    block = pairs(data)[EXCLUSION]
    assert block["level"] == "indicator"
    assert set(block) == {
        "code",
        "label",
        "owner_service",
        "level",
        "basis",
    }  # no entries, no count
    text = json.dumps(data)
    for value in ("severe", "VALOR-INDICADOR", "7.50", today().isoformat()):
        assert value not in text, value
    assert data["profiling"]["exclusion_level"] is None
    # one assessment or three: the same answer (an indicator does not count)
    assert without_person(api(client, three)) == without_person(data)


def test_a_restricted_assessment_is_only_an_indicator_for_another_service(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    assessment(world, person, notes="VALOR-RESTRINGIDO", restricted=True)
    consent_to_employment(world, person)
    data = api(client_for(world.employment_counsellor), person)
    assert pairs(data)[EXCLUSION]["level"] == "indicator"
    assert "VALOR-RESTRINGIDO" not in json.dumps(data)
    own = api(client_for(world.social_worker), person)  # the recording service sees it
    assert "VALOR-RESTRINGIDO" in json.dumps(own)


def test_the_api_costs_the_same_queries_with_one_entry_or_many(
    client_for, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.employment_counsellor)
    small, big = (world.person(attended_by=("social", "employment")) for _ in range(2))
    for person, n in ((small, 1), (big, 12)):
        consent_to_employment(world, person)
        for i in range(n):
            assessment(world, person, notes=f"n{i}", restricted=i % 3 == 2)
            world.entry(
                EmployabilityAssessment,
                person,
                by="employment",
                assessed_on=today(),
                level="medium",
                suggested_level="medium",
                age=40,
            )
    api(client, small)  # warm the session and the content types
    counts = []
    for person in (small, big):
        with (
            django_assert_max_num_queries(QUERY_BOUND),
            CaptureQueriesContext(connection) as captured,
        ):
            api(client, person)
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
