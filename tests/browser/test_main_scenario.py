"""The main scenario of RIS, end to end in Chromium against the live app (UI in Spanish).

1. A social worker opens a person her centre attends, records the person's consent (to the
   employment office, some categories, for derivación, itinerario and seguimiento) and refers
   the person to the employment office.
2. The employment counsellor sees the pending referral, accepts it, opens the record and sees
   only what the consent and the visibility matrix allow; then records an employability
   diagnosis.
3. An NGO technician, under a sharing agreement, records an intervention for a person her
   NGO attends; anyone else answers 404 exactly like an id that does not exist, and the staff
   workspace does not answer her.
4. The social worker revokes the consent: on the counsellor's very next request the
   cross-service value is gone.

Every step leaves a screenshot in test-artifacts/browser/, and the main pages are checked
with axe-core (no serious or critical violation).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.utils import timezone

from cases.models import CriminalRecord, HealthRecord, InformalWork, Person, SocialCompetences
from consent.purposes import Purpose
from ris.accounts.models import Organisation, User
from sharing.models import SharingAgreement
from tests.browser.conftest import axe_violations, login
from tests.factories import TEST_PASSWORD, PersonFactory, enrol, make_section_entry

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What the social services centre recorded about Lucía. Each text is unique in the page, so
# its absence means the value was not sent, whatever the layout.
SKILLS = "Puntualidad y trabajo en equipo acreditados en el taller de cocina del CEAS"
HEALTH = "Trastorno de ansiedad en tratamiento en la unidad de salud mental de Delicias"
CRIMINAL = "Condena por hurto con trabajos en beneficio de la comunidad hasta 2026"
INFORMAL_WORK = "Limpieza de portales sin contrato en el barrio de La Rondilla"

REFERRAL_REASON = "Busca empleo en hostelería; ha completado el taller prelaboral de cocina."
DIAGNOSIS_FACTORS = "Experiencia previa en hostelería; necesita reforzar competencias digitales."
INTERVENTION = "Acompañamiento a la entrevista de trabajo en el obrador de la calle Labradores."

NO_BASIS = "Sin consentimiento ni base jurídica para esta finalidad."
BY_MATRIX = "Su perfil no tiene acceso a esta información."


@dataclass
class World:
    centre: Organisation
    office: Organisation
    ngo: Organisation
    social_worker: User
    counsellor: User
    technician: User
    lucia: Person  # attended by the social services centre
    rosa: Person  # attended by the NGO only


@pytest.fixture
def world(
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
    employment_counsellor,
    ngo_technician,
) -> World:
    lucia = PersonFactory(
        first_name="Lucía",
        last_name_1="Herrero",
        last_name_2="Pastor",
        birth_date=dt.date(1988, 5, 14),
    )
    enrol(lucia, social_services_centre, by=social_worker)
    recorded = {
        "person": lucia,
        "organisation": social_services_centre,
        "recorded_by": social_worker,
    }
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    make_section_entry(
        SocialCompetences,
        assessed_on=yesterday,
        pre_work_skills=SKILLS,
        can_follow_itinerary=True,
        **recorded,
    )
    make_section_entry(HealthRecord, description=HEALTH, **recorded)
    make_section_entry(CriminalRecord, description=CRIMINAL, **recorded)
    make_section_entry(InformalWork, activity=INFORMAL_WORK, **recorded)

    rosa = PersonFactory(
        first_name="Rosa",
        last_name_1="Campos",
        last_name_2="Vidal",
        birth_date=dt.date(1979, 11, 2),
    )
    enrol(rosa, ngo, by=ngo_technician)
    today = timezone.localdate()
    agreement = SharingAgreement.objects.create(
        organisation=ngo,
        title="Convenio de colaboración en inclusión sociolaboral",
        community=ngo.community,
        categories=["carpeta_social", "exclusion_social"],
        purposes=[Purpose.FOLLOW_UP],
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=335),
        processing_terms="Encargo de tratamiento para el acompañamiento sociolaboral.",
    )
    agreement.parties.add(ngo, social_services_centre)
    return World(
        social_services_centre,
        employment_office,
        ngo,
        social_worker,
        employment_counsellor,
        ngo_technician,
        lucia,
        rosa,
    )


def page_text(page) -> str:
    return page.inner_text("body")


def assert_not_in_page(page, *values: str) -> None:
    """Neither in the text a person reads nor anywhere in the document (hidden nodes too)."""
    text, html = page_text(page), page.content()
    for value in values:
        assert value not in text, f"visible in the page: {value!r}"
        assert value not in html, f"present in the document: {value!r}"


def flash(page) -> str:
    return page.get_by_role("status").first.inner_text()


def test_consent_referral_ngo_portal_and_revocation(world, new_page, shots, live_server):
    # --- 1. The social worker records the consent and refers Lucía -------------------------------
    social = new_page()
    login(social, world.social_worker.username, TEST_PASSWORD)
    assert social.url.endswith("/espacio/")
    shots(social, "trabajadora-mis-casos")
    social.get_by_role("link", name="Herrero Pastor, Lucía").click()
    assert social.url.endswith(f"/espacio/personas/{world.lucia.pk}/")
    assert social.get_by_role("heading", level=1).inner_text() == "Lucía Herrero Pastor"
    assert SKILLS in page_text(social) and HEALTH in page_text(social)  # her own service's data
    assert "La persona no ha firmado ningún consentimiento." in page_text(social)
    shots(social, "trabajadora-historia")
    assert axe_violations(social) == []

    social.get_by_role("link", name="Registrar un consentimiento").first.click()
    assert (
        social.get_by_role("heading", level=1).inner_text()
        == "Registrar un consentimiento informado"
    )
    assert axe_violations(social) == []
    social.get_by_role("group", name="Organizaciones autorizadas").get_by_label(
        world.office.name, exact=True
    ).check()
    shared = social.get_by_role("group", name="Información que se comparte")
    shared.get_by_label("Competencias y habilidades prelaborales", exact=True).check()
    shared.get_by_label("Salud y discapacidad", exact=True).check()  # the matrix still caps it
    purposes = social.get_by_role("group", name="Finalidades")
    for purpose in ("Derivación", "Itinerario", "Seguimiento"):
        purposes.get_by_label(purpose, exact=True).check()
    shots(social, "trabajadora-consentimiento-formulario")
    social.get_by_role("button", name="Registrar el consentimiento").click()
    social.wait_for_load_state()
    assert "Consentimiento registrado." in flash(social)
    scope = page_text(social)
    assert f"Autoriza a: {world.office.name}." in scope
    assert "Pueden ver: Competencias y habilidades prelaborales, Salud y discapacidad." in scope
    assert "Solo para: Derivación, Itinerario, Seguimiento." in scope
    shots(social, "trabajadora-consentimiento-registrado")

    social.get_by_role("link", name="Volver a la historia social").click()
    social.get_by_role("navigation", name="Acciones sobre la historia").get_by_role(
        "link", name="Derivar a otro servicio"
    ).click()
    assert social.url.endswith(f"/espacio/personas/{world.lucia.pk}/derivar/")
    assert social.get_by_role("heading", level=1).inner_text() == "Derivar a Lucía Herrero Pastor"
    assert axe_violations(social) == []
    social.get_by_label("Organización receptora").select_option(
        label=f"{world.office.name} · Servicio público de empleo"
    )
    social.get_by_label("Motivo de la derivación").fill(REFERRAL_REASON)
    social.get_by_role("group", name="Categorías que se envían con la derivación").get_by_label(
        "Competencias y habilidades prelaborales", exact=True
    ).check()
    assert social.get_by_label("Finalidad").input_value() == Purpose.REFERRAL
    shots(social, "trabajadora-derivacion-formulario")
    social.get_by_role("button", name="Enviar derivación").click()
    social.wait_for_load_state()
    assert f"Derivación enviada a {world.office.name}." in flash(social)
    heading = social.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Derivación ") and heading.endswith("· Enviada")
    assert REFERRAL_REASON in page_text(social)
    assert social.get_by_role("button", name="Anular la derivación").is_visible()
    shots(social, "trabajadora-derivacion-enviada")

    # --- 2. The counsellor accepts the referral and reads what she may ---------------------------
    office = new_page()
    login(office, world.counsellor.username, TEST_PASSWORD)
    assert office.url.endswith("/espacio/")
    assert "Herrero" not in page_text(office), "not attended yet: not in the caseload"
    shots(office, "orientador-mis-casos")
    office.get_by_role("link", name="1 derivación pendiente").click()
    assert "Recibidas pendientes de respuesta: 1" in page_text(office)
    row = office.get_by_role("row").filter(has_text=world.centre.name)
    assert "Persona aún no atendida por su organización" in row.inner_text()
    assert "Enviada" in row.inner_text()
    shots(office, "orientador-derivaciones")
    row.get_by_role("link", name="Ver derivación").click()
    detail = page_text(office)
    assert "Lucía Herrero Pastor · fecha de nacimiento 14/05/1988" in detail
    assert REFERRAL_REASON in detail
    assert axe_violations(office) == []
    shots(office, "orientador-derivacion-recibida")
    office.get_by_role("button", name="Aceptar la derivación").click()
    office.wait_for_load_state()
    assert "Derivación aceptada" in flash(office)
    assert office.get_by_role("heading", level=1).inner_text().endswith("· Aceptada")
    shots(office, "orientador-derivacion-aceptada")

    office.get_by_role("link", name="Abrir la historia social").click()
    assert f"/espacio/personas/{world.lucia.pk}/" in office.url
    assert office.get_by_role("heading", level=1).inner_text() == "Lucía Herrero Pastor"
    record = page_text(office)
    assert SKILLS in record, "the consented category of social services is shown in full"
    health_indicator = (
        "Hay información en el área «Salud y discapacidad» registrada por Servicios sociales."
    )
    assert health_indicator in record, "health: the matrix gives the counsellor an indicator only"
    assert_not_in_page(office, HEALTH, CRIMINAL, INFORMAL_WORK)
    unavailable = office.locator("ul.not-visible").inner_text()
    assert f"Trabajo informal (Servicios sociales): {NO_BASIS}" in unavailable
    assert f"Antecedentes penales (Servicios sociales): {BY_MATRIX}" in unavailable
    shots(office, "orientador-historia")
    assert axe_violations(office) == []

    office.get_by_role("link", name="Añadir: nivel de empleabilidad").click()
    office.get_by_label("Fecha del diagnóstico").fill(timezone.localdate().strftime("%d/%m/%Y"))
    office.get_by_label("Nivel de empleabilidad").select_option(label="Medio")
    office.get_by_label("Factores").fill(DIAGNOSIS_FACTORS)
    shots(office, "orientador-diagnostico-formulario")
    office.get_by_role("button", name="Guardar").click()
    office.wait_for_load_state()
    assert "Anotación guardada: nivel de empleabilidad." in flash(office)
    diagnosis = office.locator(
        "section.category", has=office.get_by_role("heading", name="Diagnóstico de empleabilidad")
    )
    assert DIAGNOSIS_FACTORS in diagnosis.inner_text()
    assert "Medio" in diagnosis.inner_text()
    shots(office, "orientador-diagnostico-registrado")

    # --- 3. The NGO technician works in her portal, and only there -------------------------------
    portal = new_page()
    login(portal, world.technician.username, TEST_PASSWORD)
    assert portal.url.endswith("/portal/")
    assert (
        portal.get_by_role("heading", level=1).inner_text()
        == "Portal de entidades del Tercer Sector"
    )
    assert "Herrero" not in page_text(portal)
    shots(portal, "entidad-portal")
    assert axe_violations(portal) == []
    portal.get_by_role("link", name="Campos Vidal, Rosa").click()
    assert portal.url.endswith(f"/portal/personas/{world.rosa.pk}/")
    assert portal.get_by_role("heading", level=1).inner_text() == "Rosa Campos Vidal"
    assert axe_violations(portal) == []
    portal.get_by_role("link", name="Registrar una intervención").click()
    assert axe_violations(portal) == []
    portal.get_by_label(re.compile(r"^Fecha:?$")).fill(timezone.localdate().strftime("%d/%m/%Y"))
    portal.get_by_label("Tipo de intervención").select_option(label="Acompañamiento")
    portal.get_by_label("Descripción").fill(INTERVENTION)
    shots(portal, "entidad-intervencion-formulario")
    portal.get_by_role("button", name="Guardar").click()
    portal.wait_for_load_state()
    assert portal.url.endswith(f"/portal/personas/{world.rosa.pk}/")
    assert "Intervención registrada en la carpeta social." in flash(portal)
    folder = portal.locator(
        "section.category",
        has=portal.get_by_role("heading", name="Carpeta social: intervenciones del Tercer Sector"),
    )
    assert INTERVENTION in folder.inner_text()
    shots(portal, "entidad-historia")
    assert axe_violations(portal) == []  # with its confirmation message

    missing_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    missing = portal.goto(f"/portal/personas/{missing_id}/")
    assert missing.status == 404
    missing_body = missing.body()
    not_attended = portal.goto(f"/portal/personas/{world.lucia.pk}/")
    assert not_attended.status == 404
    assert not_attended.body() == missing_body, "not attended must look exactly like missing"
    assert "Herrero" not in page_text(portal)
    shots(portal, "entidad-persona-no-atendida")
    assert portal.goto(f"/portal/personas/{world.lucia.pk}/intervenciones/nueva/").status == 404
    for url in (
        "/espacio/",
        "/espacio/buscar/",
        f"/espacio/personas/{world.rosa.pk}/",
        f"/espacio/personas/{world.rosa.pk}/consentimientos/nuevo/",
        "/espacio/derivaciones/",
        f"/espacio/personas/{world.rosa.pk}/derivar/",
    ):
        response = portal.goto(url)
        assert response.status == 404, f"{url} answers the NGO technician: {response.status}"
    shots(portal, "entidad-espacio-de-trabajo")

    # --- 4. The social worker revokes the consent: the counsellor's next request shows less ------
    social.goto(f"/espacio/personas/{world.lucia.pk}/")
    card = social.locator("article.consent-card")
    assert card.get_by_role("heading").inner_text().endswith("Vigente")
    card.get_by_role("link", name="Revocar").click()
    social.get_by_label("Cómo lo ha comunicado la persona").select_option(label="Por escrito")
    social.get_by_label("Motivo (opcional)").fill(
        "Prefiere no compartir su información con empleo."
    )
    shots(social, "trabajadora-revocacion-formulario")
    social.get_by_role("button", name="Revocar").click()
    social.wait_for_load_state()
    assert "Consentimiento revocado: deja de surtir efecto desde ahora." in flash(social)
    assert "Desde entonces no autoriza nada." in page_text(social)
    office_access = social.locator(
        "section.org-access", has=social.get_by_role("heading", name=world.office.name)
    )
    assert "Nada de otros servicios" in office_access.inner_text()
    shots(social, "trabajadora-consentimiento-revocado")

    office.reload()
    assert office.get_by_role("heading", level=1).inner_text() == "Lucía Herrero Pastor"
    assert_not_in_page(office, SKILLS, HEALTH, CRIMINAL, INFORMAL_WORK)
    assert health_indicator not in page_text(office)
    unavailable = office.locator("ul.not-visible").inner_text()
    assert (
        f"Competencias y habilidades prelaborales (Servicios sociales): {NO_BASIS}" in unavailable
    )
    assert DIAGNOSIS_FACTORS in page_text(office), "her own service's diagnosis stays"
    shots(office, "orientador-historia-tras-revocacion")


def test_a_page_with_a_confirmation_message_is_accessible(world, new_page, shots):
    page = new_page()
    login(page, world.technician.username, TEST_PASSWORD)
    page.goto(f"/portal/personas/{world.rosa.pk}/intervenciones/nueva/")
    page.get_by_label(re.compile(r"^Fecha:?$")).fill(timezone.localdate().strftime("%d/%m/%Y"))
    page.get_by_label("Tipo de intervención").select_option(label="Orientación")
    page.get_by_label("Descripción").fill(INTERVENTION)
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_load_state()
    assert "Intervención registrada en la carpeta social." in flash(page)
    shots(page, "mensaje-de-confirmacion")
    assert axe_violations(page) == []
