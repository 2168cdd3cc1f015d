"""Documents to print and sign, as PDF: the social report, the consent receipt, the referral
summary and the joint plan.

A document holds only what the printing user may see (it is built from the same filtered
record as the page), and printing it writes a disclosure-log line with event "export".
The text is read back with pypdf.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cases import models as m
from consent.purposes import Purpose
from sharing.models import DisclosureLogEntry
from tests.factories import ConsentFactory, PersonFactory, enrol, make_section_entry

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín", last_name_2="Sáez")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


@pytest.fixture
def recorded(person, social_services_centre, employment_office, social_worker, employment_counsellor):
    """Social data of three kinds and a state benefit."""
    make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre,
                       recorded_by=social_worker, need_assessment="VALOREXCLUSION")
    make_section_entry(m.HealthRecord, person=person, organisation=social_services_centre,
                       recorded_by=social_worker, description="VALORSALUD", disability_degree=45)
    make_section_entry(m.FamilySituation, person=person, organisation=social_services_centre,
                       recorded_by=social_worker, description="VALORFAMILIA")
    make_section_entry(m.UnemploymentBenefit, person=person, organisation=employment_office,
                       recorded_by=employment_counsellor, monthly_amount=Decimal("812.34"),
                       start_date=timezone.localdate() - dt.timedelta(days=20))
    return person


def report_url(person, purpose=Purpose.FOLLOW_UP) -> str:
    return f"/espacio/personas/{person.pk}/informe-social.pdf?finalidad={purpose}"


def test_the_social_report_of_the_social_worker(client_for, social_worker, recorded,
                                                django_assert_max_num_queries):
    client = client_for(social_worker)
    client.get(report_url(recorded))
    with django_assert_max_num_queries(45):
        response = client.get(report_url(recorded))
    assert response["Content-Disposition"] == f'attachment; filename="informe-social-{recorded.pk}.pdf"'
    text = pdf_text(response)
    assert "Informe social" in text and "Lucía Marín Sáez" in text
    assert "VALOREXCLUSION" in text and "VALORSALUD" in text and "VALORFAMILIA" in text
    # State benefits are an indicator for social services: the map says "Sí", never the amount.
    assert "812" not in text
    assert "Prestaciones y subsidios por desempleo" in text
    assert "Firma" in text


def test_an_indicator_category_has_no_values_in_the_orientadors_report(
    client_for, employment_counsellor, social_worker, social_services_centre, recorded,
):
    ConsentFactory(person=recorded, grantee_services=["employment"], purposes=[Purpose.FOLLOW_UP],
                   recorded_by=social_worker, recorded_by_org=social_services_centre)
    text = pdf_text(client_for(employment_counsellor).get(report_url(recorded)))
    assert "VALOREXCLUSION" in text  # full with the consent
    assert "VALORSALUD" not in text and "Grado de discapacidad" not in text  # health: indicator for employment
    assert "VALORFAMILIA" not in text  # family situation: indicator for employment
    assert "Hay información en el área «Salud y discapacidad» registrada por Servicios sociales." in text
    assert "812,34" in text  # its own service's benefit, in full


def test_without_consent_the_report_holds_no_social_data(client_for, employment_counsellor, recorded):
    text = pdf_text(client_for(employment_counsellor).get(report_url(recorded)))
    for marker in ("VALOREXCLUSION", "VALORSALUD", "VALORFAMILIA"):
        assert marker not in text
    assert "Sin consentimiento ni base jurídica para esta finalidad." in text


def test_printing_writes_an_export_line(client_for, employment_counsellor, recorded):
    client_for(employment_counsellor).get(report_url(recorded))
    line = DisclosureLogEntry.objects.get(event="export", person=recorded)
    assert (line.channel, line.user_id, line.purpose, line.basis) == (
        "export", employment_counsellor.pk, "seguimiento", "documento:informe_social")


def test_the_report_of_a_person_outside_the_caseload_is_a_404(client_for, social_worker):
    stranger = PersonFactory()
    assert client_for(social_worker).get(report_url(stranger)).status_code == 404
    assert not DisclosureLogEntry.objects.filter(event="export").exists()


def test_the_consent_receipt(client_for, social_worker, social_services_centre, employment_office, person):
    consent = ConsentFactory(person=person, grantee_services=["employment"], denied_categories=["salud"],
                             purposes=[Purpose.FOLLOW_UP, Purpose.REFERRAL], recorded_by=social_worker,
                             recorded_by_org=social_services_centre)
    consent.grantee_organisations.add(employment_office)
    client = client_for(social_worker)
    html = client.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/justificante/")
    assert html.status_code == 200
    assert "Excepto" in html.content.decode() or "excepto" in html.content.decode()
    text = pdf_text(client.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/justificante.pdf"))
    assert "Justificante de consentimiento informado" in text
    assert "Lucía Marín Sáez" in text and person.document_number in text
    assert "excepto: Salud y discapacidad" in text
    assert "Seguimiento, Derivación" in text
    assert "Oficina de Empleo Valladolid Centro" in text
    assert "revocar" in text.lower()
    assert DisclosureLogEntry.objects.filter(event="export", person=person,
                                             basis="documento:consentimiento").count() == 1


def test_the_receipt_of_another_persons_consent_is_a_404(client_for, social_worker, social_services_centre, person):
    other = PersonFactory()
    consent = ConsentFactory(person=other, recorded_by=social_worker, recorded_by_org=social_services_centre)
    client = client_for(social_worker)
    assert client.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/justificante.pdf").status_code == 404
    assert client.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/justificante/").status_code == 404


# --- Coordination documents --------------------------------------------------------------------------------


def test_the_referral_summary_holds_only_what_the_sender_sees(
    client_for, social_worker, social_services_centre, employment_office, recorded,
):
    from coordination.models import Referral

    referral = Referral.objects.create(
        person=recorded, from_organisation=social_services_centre, to_organisation=employment_office,
        reason="Orientación laboral", categories=["exclusion_social", "salud", "prestaciones_estatales"],
        purpose=Purpose.REFERRAL, sent_by=social_worker,
    )
    url = f"/espacio/personas/{recorded.pk}/derivaciones/{referral.pk}/resumen.pdf"
    text = pdf_text(client_for(social_worker).get(url))
    assert "Resumen de derivación" in text and "Orientación laboral" in text
    assert "VALOREXCLUSION" in text and "VALORSALUD" in text
    assert "VALORFAMILIA" not in text  # not a referred category
    assert "812" not in text  # state benefit: indicator for the social worker
    assert DisclosureLogEntry.objects.filter(event="export", basis="documento:derivacion").count() == 1


def test_a_referral_of_other_organisations_is_a_404(client_for, employment_counsellor, social_worker,
                                                    social_services_centre, recorded):
    from coordination.models import Referral
    from tests.factories import OrganisationFactory

    elsewhere = OrganisationFactory(kind="third_sector")
    referral = Referral.objects.create(
        person=recorded, from_organisation=social_services_centre, to_organisation=elsewhere, reason="x",
        categories=["exclusion_social"], purpose=Purpose.REFERRAL, sent_by=social_worker,
    )
    url = f"/espacio/personas/{recorded.pk}/derivaciones/{referral.pk}/resumen.pdf"
    assert client_for(employment_counsellor).get(url).status_code == 404


def test_the_joint_plan_shows_other_services_actions_by_the_viewers_level(
    client_for, social_worker, employment_counsellor, social_services_centre, employment_office, person,
):
    from coordination.models import JointPlan, PlanAction

    today = timezone.localdate()
    plan = JointPlan.objects.create(person=person, title="Itinerario 2025", start_date=today,
                                    review_date=today + dt.timedelta(days=90),
                                    organising_organisation=social_services_centre, created_by=social_worker)
    plan.organisations.set([social_services_centre, employment_office])
    PlanAction.objects.create(plan=plan, owner_organisation=employment_office, owner_service="employment",
                              action_type="formacion", description="ACCIONFORMACION", category="itinerario_empleo",
                              start_date=today, created_by=employment_counsellor)
    PlanAction.objects.create(plan=plan, owner_organisation=social_services_centre, owner_service="social",
                              action_type="apoyo_social", description="ACCIONSOCIAL", category="exclusion_social",
                              start_date=today, created_by=social_worker)
    url = f"/espacio/personas/{person.pk}/itinerarios/{plan.pk}/itinerario.pdf"
    text = pdf_text(client_for(social_worker).get(url))
    assert "Itinerario conjunto" in text and "ACCIONSOCIAL" in text
    assert "ACCIONFORMACION" not in text  # no consent: another service's action is not shown
    ConsentFactory(person=person, grantee_services=["social"], purposes=[Purpose.ITINERARY],
                   recorded_by=social_worker, recorded_by_org=social_services_centre)
    assert "ACCIONFORMACION" in pdf_text(client_for(social_worker).get(url))
    assert DisclosureLogEntry.objects.filter(event="export", basis="documento:itinerario").count() == 2
