"""The joint plan to print and sign holds what the plan page shows, filtered the same way.

The person's agreement and its signature date, each action's start, end and review dates and
each commitment's compliance records are printed for what the viewer sees in full; an action
or commitment at indicator level prints only its area and service, a hidden one nothing (not
its dates, not its compliance).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from consent.purposes import Purpose
from ris.accounts.models import ServiceKind

from .builders import TODAY, make_action, make_commitment, make_plan

pytestmark = pytest.mark.django_db

D = dt.date(2025, 1, 1)


def fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def plan(
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    consent,
):
    """One action and one commitment at each level for the orientador (with consent for the plan):
    exclusion_social in full, situacion_familiar an indicator, antecedentes_penales hidden."""
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    plan = make_plan(
        shared_person,
        social_services_centre,
        social_worker,
        participants=[employment_office],
        start_date=D,
        review_date=D + dt.timedelta(days=200),
        person_agreed=True,
        signed_on=D + dt.timedelta(days=3),
    )
    for i, category in enumerate(
        ("exclusion_social", "situacion_familiar", "antecedentes_penales")
    ):
        make_action(
            plan,
            social_services_centre,
            social_worker,
            category=category,
            description=f"ACCION-{category}",
            start_date=D + dt.timedelta(days=10 + i),
            end_date=D + dt.timedelta(days=40 + i),
            review_date=D + dt.timedelta(days=70 + i),
        )
        commitment = make_commitment(
            plan,
            social_services_centre,
            social_worker,
            category=category,
            description=f"COMPROMISO-{category}",
        )
        commitment.compliance_records.create(
            date=D + dt.timedelta(days=100 + i),
            complied=bool(i % 2),
            note=f"SEGUIMIENTO-{category}",
            recorded_by=social_worker,
            recorded_by_org=social_services_centre,
        )
    return plan


def url(plan) -> str:
    return f"/espacio/personas/{plan.person_id}/itinerarios/{plan.pk}/itinerario.pdf"


def test_the_pdf_carries_the_persons_agreement_and_signature_date(plan, social_worker, client_for):
    text = pdf_text(client_for(social_worker).get(url(plan)))
    assert f"Acuerdo de la persona Firmado el {fmt(D + dt.timedelta(days=3))}" in text


def test_a_plan_not_yet_signed_says_so(plan, social_worker, client_for):
    plan.person_agreed, plan.signed_on = False, None
    plan.save()
    assert "Pendiente de firma" in pdf_text(client_for(social_worker).get(url(plan)))


def test_the_owner_prints_every_actions_dates_and_every_commitments_compliance(
    plan, social_worker, client_for
):
    text = pdf_text(client_for(social_worker).get(url(plan)))
    for i, category in enumerate(
        ("exclusion_social", "situacion_familiar", "antecedentes_penales")
    ):
        assert f"ACCION-{category}" in text
        assert (
            f"{fmt(D + dt.timedelta(days=10 + i))} – {fmt(D + dt.timedelta(days=40 + i))}" in text
        )
        assert f"Revisión: {fmt(D + dt.timedelta(days=70 + i))}" in text
        assert f"SEGUIMIENTO-{category}" in text
        assert fmt(D + dt.timedelta(days=100 + i)) in text


def test_hidden_and_indicator_items_print_no_dates_and_no_compliance(
    plan, employment_counsellor, client_for
):
    text = pdf_text(client_for(employment_counsellor).get(url(plan)))
    # in full: as the page shows it
    assert "ACCION-exclusion_social" in text
    assert f"{fmt(D + dt.timedelta(days=10))} – {fmt(D + dt.timedelta(days=40))}" in text
    assert f"Revisión: {fmt(D + dt.timedelta(days=70))}" in text
    assert "SEGUIMIENTO-exclusion_social" in text and fmt(D + dt.timedelta(days=100)) in text
    # an indicator: its area and service only
    assert (
        "Hay acciones en el área «Situación personal y familiar» a cargo de Servicios sociales."
        in text
    )
    assert (
        "Hay compromisos en el área «Situación personal y familiar» verificados por "
        "Servicios sociales." in text
    )
    # indicator (i=1) and hidden (i=2): none of their texts, dates or compliance
    for i, category in ((1, "situacion_familiar"), (2, "antecedentes_penales")):
        for secret in (
            f"ACCION-{category}",
            f"COMPROMISO-{category}",
            f"SEGUIMIENTO-{category}",
            fmt(D + dt.timedelta(days=10 + i)),
            fmt(D + dt.timedelta(days=40 + i)),
            fmt(D + dt.timedelta(days=70 + i)),
            fmt(D + dt.timedelta(days=100 + i)),
        ):
            assert secret not in text, secret
    assert "Antecedentes penales" not in text


def test_without_consent_nothing_of_the_other_service_is_printed(
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
):
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description="ACCION-SIN-CONSENTIMIENTO",
        end_date=TODAY() + dt.timedelta(days=333),
    )
    text = pdf_text(client_for(employment_counsellor).get(url(plan)))
    assert "ACCION-SIN-CONSENTIMIENTO" not in text
    assert fmt(TODAY() + dt.timedelta(days=333)) not in text
    assert "Ninguna acción visible." in text
