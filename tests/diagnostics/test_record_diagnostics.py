"""Diagnostics on the person's record page, and the forms that record them.

- The employment counsellor records the employability diagnosis (level decided by them, the
  factors' suggestion beside it), the social worker the social exclusion assessment with an
  instrument, social services (workspace) and NGO technicians (portal, with an agreement in
  force) the basic screening, clearly marked as orientative; Spanish server-side validation.
- Each entry is shown under the service that recorded it, screenings of every service
  included, at the level ``sharing.policy`` decides for that (category, service) pair:
  full shows the values, indicator only that information exists and who recorded it,
  hidden answers byte for byte as if there were no data.
- The profiling proposal is computed only from what the viewer sees in full: a hidden input
  gives no proposal, exactly as a missing one.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from cases.models import EmployabilityLevel, ExclusionSituation
from consent.purposes import Purpose
from diagnostics.models import (
    BasicEmployabilityScreening,
    EmployabilityAssessment,
    ExclusionAssessment,
    Instrument,
    Item,
)
from ris.reference.models import EducationLevel, Occupation
from sharing.models import DisclosureLogEntry, SharingAgreement, VisibilityRule
from tests.cases.test_record_page import CSRF, part, sections, text
from tests.factories import MembershipFactory, UserFactory

from .conftest import today

pytestmark = pytest.mark.django_db

FOLLOW_UP = Purpose.FOLLOW_UP.value
ANSWERS = {
    "has_work_experience": "si",
    "completed_compulsory_education": "no",
    "speaks_spanish": "si",
    "available_for_work": "si",
    "has_driving_licence": "no",
    "basic_digital_skills": "no",
}


def dmy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def page(client, person, prefix: str = "/espacio") -> str:
    response = client.get(f"{prefix}/personas/{person.pk}/", {"finalidad": FOLLOW_UP})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def same_page(client, person, prefix: str = "/espacio") -> str:
    return CSRF.sub("", page(client, person, prefix))


def follow_up_consent(world, person, services=("social", "employment", "third_sector")):
    return world.consent(person, services=list(services), purposes=(FOLLOW_UP,))


def agreement(organisation, categories=("ficha_basica", "carpeta_social", "empleabilidad")):
    return SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio de colaboración",
        community_id="07",
        categories=list(categories),
        purposes=[FOLLOW_UP],
        valid_from=today() - dt.timedelta(days=100),
        valid_until=today() + dt.timedelta(days=300),
        processing_terms="Encargo de tratamiento conforme al art. 28 RGPD",
    )


def diagnosis(world, person, *, restricted=False, level="low", **values):
    return world.entry(
        EmployabilityAssessment,
        person,
        by="employment",
        assessed_on=values.pop("assessed_on", today()),
        level=level,
        suggested_level=level,
        age=values.pop("age", 50),
        restricted=restricted,
        **values,
    )


def screening(world, person, by: str, *, restricted=False, notes="VALOR-CRIBADO"):
    return world.entry(
        BasicEmployabilityScreening,
        person,
        by=by,
        screened_on=today(),
        result="medium",
        restricted=restricted,
        notes=notes,
        **{q: a == "si" for q, a in ANSWERS.items()},
    )


# --- The employability diagnosis (employment service) ------------------------------------------


def employability_url(person) -> str:
    return f"/espacio/personas/{person.pk}/diagnosticos/empleabilidad/nuevo/"


def test_the_orientador_records_a_diagnosis_from_the_record_and_reads_it_there(client_for, world):
    person = world.person(attended_by=("employment",), age=57, languages=["es"])
    client = client_for(world.employment_counsellor)
    block = sections(page(client, person))[("empleabilidad", "employment")]["body"]
    assert f'href="{employability_url(person)}"' in block

    form = client.get(employability_url(person)).content.decode()
    assert '<label for="id_level">' in form and '<label for="id_assessed_on">' in form
    assert 'name="age" value="57"' in form  # prefilled from the basic sheet
    occupation = Occupation.objects.filter(major_group="9").order_by("code").first()
    education = EducationLevel.objects.filter(isced_level=1).first()
    response = client.post(
        employability_url(person),
        {
            "assessed_on": dmy(today()),
            "level": "medium",
            "months_unemployed": "30",
            "education_level": education.pk,
            "occupation": occupation.pk,
            "age": "57",
            "languages": "ES, ar",
            "months_worked_last_two_years": "0",
            "factors": "VALOR-FACTORES",
        },
    )
    assert response.status_code == 302
    assert response.url == f"/espacio/personas/{person.pk}/#cat-empleabilidad-employment"
    entry = EmployabilityAssessment.objects.get(person=person)
    assert (entry.level, entry.suggested_level, entry.languages) == ("medium", "low", ["es", "ar"])
    assert entry.recorded_by_service == "employment" and not entry.driving_licence

    html = page(client, person)
    body = sections(html)[("empleabilidad", "employment")]["body"]
    assert "Diagnóstico de empleabilidad" in body and "VALOR-FACTORES" in body
    assert f'<time datetime="{today().isoformat()}">{dmy(today())}</time>' in body
    assert re.search(r"Nivel de empleabilidad</dt><dd>Medio</dd>", body)
    assert re.search(r"Nivel sugerido por los factores</dt><dd>Bajo</dd>", body)
    assert "es, ar" in body and "55 años o más (+2)" in body
    assert f"{occupation.code} " in body
    assert f"/secciones/employabilityassessment/{entry.pk}/" not in html  # not edited as a section


def test_the_diagnosis_form_refuses_what_is_wrong_in_spanish_and_saves_nothing(client_for, world):
    person = world.person(attended_by=("employment",))
    client = client_for(world.employment_counsellor)
    response = client.post(
        employability_url(person),
        {
            "assessed_on": dmy(today() + dt.timedelta(days=1)),
            "level": "",
            "months_unemployed": "-1",
            "age": "12",
            "languages": "es, 12",
            "months_worked_last_two_years": "30",
        },
    )
    assert response.status_code == 200
    html = text(response.content.decode())
    for message in (
        "La fecha del diagnóstico no puede ser posterior a hoy.",
        "Indique el nivel de empleabilidad que usted decide.",
        "Escriba un número de meses entre 0 y 600.",
        "Escriba la edad en años, entre 16 y 100.",
        "«12» no es un código de idioma ISO 639",
        "Escriba un número de meses entre 0 y 24.",
    ):
        assert message in html, message
    assert "Revise los datos: no se ha guardado nada todavía" in html
    assert 'value="es, 12"' in response.content.decode()  # what was typed is kept
    bad_date = client.post(employability_url(person), {"assessed_on": "31/02/2025"})
    assert "Escriba la fecha como dd/mm/aaaa" in bad_date.content.decode()
    assert not EmployabilityAssessment.objects.filter(person=person).exists()


# --- Who opens which form -------------------------------------------------------------------------


def test_each_form_answers_only_the_roles_and_spaces_that_record_it(client_for, world, coordinator):
    person = world.person(attended_by=("social", "employment", "ngo"))
    agreement(world.ngo)
    base, portal = (
        f"/espacio/personas/{person.pk}/diagnosticos",
        f"/portal/personas/{person.pk}/diagnosticos",
    )
    expected = {
        world.social_worker: {
            f"{base}/exclusion/nueva/": 200,
            f"{base}/cribado/nuevo/": 200,
            f"{base}/empleabilidad/nuevo/": 404,
            f"{portal}/cribado/nuevo/": 404,
        },
        world.employment_counsellor: {
            f"{base}/empleabilidad/nuevo/": 200,
            f"{base}/exclusion/nueva/": 404,
        },
        world.ngo_technician: {
            f"{portal}/cribado/nuevo/": 200,
            f"{base}/cribado/nuevo/": 404,
            f"{base}/empleabilidad/nuevo/": 404,
        },
        coordinator: {
            f"{base}/cribado/nuevo/": 404,
            f"{base}/exclusion/nueva/": 404,
            f"{base}/empleabilidad/nuevo/": 404,
        },
    }
    for user, urls in expected.items():
        client = client_for(user)
        client.raise_request_exception = False
        for url, status in urls.items():
            assert client.get(url).status_code == status, (user.username, url)
    stranger = world.person(attended_by=())
    client = client_for(world.social_worker)
    assert (
        client.get(f"/espacio/personas/{stranger.pk}/diagnosticos/cribado/nuevo/").status_code
        == 404
    )


# --- The basic screening (social services in the workspace, NGOs in the portal) ------------------


def test_a_social_services_screening_is_shown_under_social_services_marked_as_orientative(
    client_for, world
):
    person = world.person(attended_by=("social", "employment"))
    client = client_for(world.social_worker)
    url = f"/espacio/personas/{person.pk}/diagnosticos/cribado/nuevo/"
    own = sections(page(client, person))[("empleabilidad", "social")]  # her block, to record in
    assert own["level"] == "full" and f'href="{url}"' in own["body"]
    form = client.get(url).content.decode()
    assert "<legend>¿Tiene experiencia laboral?</legend>" in form
    assert "no sustituye al diagnóstico de empleabilidad" in form

    missing = client.post(url, {"screened_on": dmy(today()), **{**ANSWERS, "speaks_spanish": ""}})
    assert "Responda sí o no a esta pregunta." in missing.content.decode()
    future = client.post(url, {"screened_on": dmy(today() + dt.timedelta(days=3)), **ANSWERS})
    assert "La fecha del cribado no puede ser posterior a hoy." in future.content.decode()
    assert not BasicEmployabilityScreening.objects.exists()

    response = client.post(url, {"screened_on": dmy(today()), "notes": "VALOR-CRIBADO", **ANSWERS})
    assert response.status_code == 302
    assert response.url.endswith("#cat-empleabilidad-social")
    entry = BasicEmployabilityScreening.objects.get(person=person)
    assert entry.recorded_by_service == "social" and entry.result == "medium"
    assert entry.speaks_spanish and not entry.has_driving_licence

    html = page(client, person)
    body = part(html, "servicio-social-title")
    assert "Cribado básico de empleabilidad (orientativo)" in body
    assert "Cribado básico orientativo: no sustituye al diagnóstico" in body
    assert "VALOR-CRIBADO" in body

    # the employment service sees it under social services once the person consents
    follow_up_consent(world, person, services=("employment",))
    other = page(client_for(world.employment_counsellor), person)
    assert "VALOR-CRIBADO" in part(other, "servicio-social-title")
    assert sections(other)[("empleabilidad", "social")]["level"] == "full"
    assert f'href="{url}"' not in other


def test_an_ngo_records_a_screening_through_the_portal_under_its_agreement(client_for, world):
    person = world.person(attended_by=("social", "ngo"))
    client = client_for(world.ngo_technician)
    url = f"/portal/personas/{person.pk}/diagnosticos/cribado/nuevo/"
    client.raise_request_exception = False
    SharingAgreement.objects.filter(organisation=world.ngo).delete()
    assert client.get(url).status_code == 404  # no agreement in force: the portal records nothing
    agreement(world.ngo)
    assert f'href="{url}"' in page(client, person, "/portal")
    response = client.post(url, {"screened_on": dmy(today()), "notes": "VALOR-ENTIDAD", **ANSWERS})
    assert response.status_code == 302
    assert response.url == f"/portal/personas/{person.pk}/#cat-empleabilidad-third_sector"
    entry = BasicEmployabilityScreening.objects.get(person=person)
    assert (entry.recorded_by_service, entry.recorded_by_org) == ("third_sector", world.ngo)
    own = sections(page(client, person, "/portal"))[("empleabilidad", "third_sector")]
    assert own["level"] == "full" and "VALOR-ENTIDAD" in own["body"]

    # social services: nothing without consent (as if there were no screening), the values with it
    social = client_for(world.social_worker)
    with_screening = same_page(social, person)
    assert "VALOR-ENTIDAD" not in with_screening
    entry.delete()
    assert same_page(social, person) == with_screening  # hidden answers exactly as no data
    screening(world, person, "ngo", notes="VALOR-ENTIDAD")
    follow_up_consent(world, person, services=("social",))
    html = page(social, person)
    shown = part(html, "servicio-third_sector-title")
    assert "Información registrada por Entidad del Tercer Sector" in shown
    assert "VALOR-ENTIDAD" in shown and "Cribado básico orientativo" in shown


def test_a_hidden_screening_of_any_service_answers_byte_identical_with_or_without_it(
    client_for, world
):
    """The orientador has no consent: the screenings of social services and the NGO are hidden."""
    person = world.person(attended_by=("social", "employment", "ngo"))
    client = client_for(world.employment_counsellor)
    before = same_page(client, person)
    screening(world, person, "social")
    screening(world, person, "ngo")
    world.entry(
        ExclusionAssessment,
        person,
        by="social",
        instrument=Instrument.objects.get(code="foessa-35"),
        assessed_on=today(),
        total_score=Decimal(3),
        level="moderate",
    )
    after = same_page(client, person)
    assert after == before
    assert "VALOR-CRIBADO" not in after


# --- Indicator: only that information exists, and who recorded it ---------------------------------


def test_a_restricted_screening_of_another_service_is_only_an_indicator(client_for, world):
    person = world.person(attended_by=("social", "ngo"))
    screening(world, person, "ngo", restricted=True, notes="VALOR-RESTRINGIDO")
    follow_up_consent(world, person, services=("social",))
    html = page(client_for(world.social_worker), person)
    block = sections(html)[("empleabilidad", "third_sector")]
    assert block["level"] == "indicator"
    assert (
        "Hay información en el área «Diagnóstico de empleabilidad» registrada por Entidad del "
        "Tercer Sector."
    ) in text(block["body"])
    assert "VALOR-RESTRINGIDO" not in html and "Cribado básico orientativo" not in html


def test_at_indicator_level_the_diagnosis_shows_only_that_it_exists(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    follow_up_consent(world, person, services=("social",))
    client = client_for(world.social_worker)
    VisibilityRule.objects.filter(
        role="social_worker", category_id="empleabilidad", community__isnull=True
    ).update(level="indicator")
    without = page(client, person)
    assert ("empleabilidad", "employment") not in sections(without)
    diagnosis(world, person, factors="VALOR-DIAGNOSTICO", months_unemployed=14)
    html = page(client, person)
    block = sections(html)[("empleabilidad", "employment")]
    assert block["level"] == "indicator" and "Solo indicador" in block["body"]
    assert "registrada por Servicio público de empleo" in text(block["body"])
    assert "VALOR-DIAGNOSTICO" not in html and "14" not in block["body"]
    unavailable = part(html, "nv-title") if 'id="nv-title"' in html else ""
    assert "Diagnóstico de empleabilidad (Servicio público de empleo)" not in text(unavailable)


def test_what_the_merge_shows_of_another_service_is_in_the_disclosure_log(client_for, world):
    person = world.person(attended_by=("social", "ngo"))
    follow_up_consent(world, person, services=("social",))
    client = client_for(world.social_worker)

    def lines():
        return list(
            DisclosureLogEntry.objects.filter(
                person=person, event="disclosure", category="empleabilidad"
            )
            .order_by("id")
            .values_list("level", "basis")
        )

    page(client, person)
    before = lines()  # the employment service's (empty) diagnosis category, decided by sharing
    screening(world, person, "ngo")
    page(client, person)
    added = lines()[len(before) * 2 :]
    assert len(added) == 1 and added[0][0] == "full" and added[0][1].startswith("consent:")


def test_the_record_and_its_diagnostics_are_logged_in_one_append(client_for, world):
    """One request, one write to the log: the sections' lines and the diagnostics' lines go
    together, so a request's disclosures are chained as one block."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = world.person(attended_by=("social", "ngo"))
    follow_up_consent(world, person, services=("social",))
    screening(world, person, "ngo")
    client = client_for(world.social_worker)
    with CaptureQueriesContext(connection) as ctx:
        page(client, person)
    appends = [q for q in ctx.captured_queries if "ris_disclosure_append(" in q["sql"]]
    assert len(appends) == 1
    request_ids = set(
        DisclosureLogEntry.objects.filter(person=person).values_list("request_id", flat=True)
    )
    assert len(request_ids) == 1
    categories = set(
        DisclosureLogEntry.objects.filter(person=person, event="disclosure").values_list(
            "category", flat=True
        )
    )
    assert "empleabilidad" in categories and len(categories) > 1


# --- The social exclusion assessment (social services) ---------------------------------------------


def test_the_social_worker_assesses_exclusion_with_the_instrument(client_for, world):
    person = world.person(attended_by=("social",))
    client = client_for(world.social_worker)
    url = f"/espacio/personas/{person.pk}/diagnosticos/exclusion/nueva/"
    assert f'href="{url}"' in sections(page(client, person))[("exclusion_social", "social")]["body"]
    form = client.get(url).content.decode()
    foessa = Instrument.objects.get(code="foessa-35")
    assert form.count("<fieldset") == foessa.areas.count() == 6
    assert "<legend>Empleo</legend>" in form and "<legend>Económica: Consumo</legend>" in form
    items = list(Item.objects.filter(area__instrument=foessa, area__kind="employment")[:2])
    housing = Item.objects.filter(area__instrument=foessa, area__kind="housing").first()
    data = {
        "assessed_on": dmy(today()),
        "area_employment": [str(i.pk) for i in items],
        "area_housing": [str(housing.pk)],
        "notes": "VALOR-VALORACION",
    }
    future = client.post(url, {**data, "assessed_on": dmy(today() + dt.timedelta(days=1))})
    assert "La fecha de la valoración no puede ser posterior a hoy." in future.content.decode()
    wrong = client.post(
        url, {**data, "area_housing": [str(items[0].pk)]}
    )  # an item of another area
    assert "no pertenecen a este instrumento" in wrong.content.decode()
    assert not ExclusionAssessment.objects.exists()

    response = client.post(url, data)
    assert response.status_code == 302 and response.url.endswith("#cat-exclusion_social-social")
    assessment = ExclusionAssessment.objects.get(person=person)
    assert assessment.total_score == 3 and assessment.answers.filter(present=True).count() == 3
    body = sections(page(client, person))[("exclusion_social", "social")]["body"]
    assert "Valoración de la exclusión social" in body and "VALOR-VALORACION" in body
    assert "Indicadores de exclusión social FOESSA" in body
    assert re.search(r"Puntuación total</dt><dd><data value=\"3\.00\">3</data>", body)
    assert "€" not in body
    assert re.search(r"Área: Empleo</dt><dd>2", body) and re.search(
        r"Área: Vivienda</dt><dd>1", body
    )
    assert assessment.get_level_display() in body


# --- Profiling -------------------------------------------------------------------------------------


def profiling_part(html: str) -> str:
    return text(part(html, "perfilado-title"))


def test_the_record_shows_the_profiling_proposal_from_what_the_viewer_sees(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    world.entry(ExclusionSituation, person, by="social", severity="moderate", assessed_on=today())
    diagnosis(world, person, level="low")
    client = client_for(world.social_worker)

    no_consent = profiling_part(page(client, person))
    assert (
        "Sin propuesta: no se puede calcular con la información que usted puede ver." in no_consent
    )
    assert "Falta un diagnóstico de empleabilidad que pueda ver." in no_consent
    assert "art. 22" in no_consent

    follow_up_consent(world, person, services=("social",))
    html = page(client, person)
    proposal = profiling_part(html)
    assert "Lidera servicios sociales" in proposal
    assert "exclusión moderada" in proposal and "empleabilidad baja" in proposal
    assert 'href="#perfilado-title"' in html


def test_a_hidden_input_gives_the_same_page_as_a_missing_one(client_for, world):
    """Without consent, neither the social worker nor the orientador can tell from the proposal
    whether the other service's level exists, or what it is."""
    person = world.person(attended_by=("social", "employment"))
    social, employment = client_for(world.social_worker), client_for(world.employment_counsellor)
    world.entry(ExclusionSituation, person, by="social", severity="severe", assessed_on=today())
    diagnosis_before = same_page(social, person)
    diagnosis(world, person, level="high")
    world.entry(EmployabilityLevel, person, by="employment", level="high", assessed_on=today())
    assert same_page(social, person) == diagnosis_before

    person2 = world.person(attended_by=("social", "employment"))
    diagnosis(world, person2, level="high")
    exclusion_before = same_page(employment, person2)
    world.entry(ExclusionSituation, person2, by="social", severity="severe", assessed_on=today())
    after = same_page(employment, person2)
    assert after == exclusion_before
    assert "Falta una valoración de la exclusión social que pueda ver." in profiling_part(after)


def test_a_restricted_diagnosis_or_a_screening_gives_no_proposal(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    world.entry(ExclusionSituation, person, by="social", severity="risk", assessed_on=today())
    follow_up_consent(world, person, services=("social",))
    diagnosis(world, person, level="low", restricted=True)  # origin block
    screening(world, person, "social")  # orientative: not an employability diagnosis
    proposal = profiling_part(page(client_for(world.social_worker), person))
    assert "Sin propuesta" in proposal

    diagnosis(world, person, level="low", assessed_on=today() - dt.timedelta(days=30))
    assert "Itinerario conjunto" in profiling_part(page(client_for(world.social_worker), person))


def test_the_newest_level_the_viewer_sees_decides_the_proposal(client_for, world):
    person = world.person(attended_by=("social", "employment"))
    follow_up_consent(world, person, services=("employment",))
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="severe",
        assessed_on=today() - dt.timedelta(days=200),
    )
    world.entry(
        ExclusionAssessment,
        person,
        by="social",
        instrument=Instrument.objects.get(code="foessa-35"),
        assessed_on=today() - dt.timedelta(days=5),
        total_score=Decimal(0),
        level="integration",
    )
    diagnosis(world, person, level="high")
    proposal = profiling_part(page(client_for(world.employment_counsellor), person))
    assert "Lidera el servicio de empleo" in proposal and "sin situación de exclusión" in proposal


def test_a_viewer_without_record_writes_gets_no_recording_links(client_for, world, coordinator):
    person = world.person(attended_by=("social",))
    html = page(client_for(coordinator), person)
    assert "/diagnosticos/" not in html
    assert ("empleabilidad", "social") not in sections(html)  # no empty block to record in
    user = UserFactory()
    MembershipFactory(user=user, organisation=world.social, role="social_worker")
    assert "/diagnosticos/cribado/nuevo/" in page(client_for(user), person)
