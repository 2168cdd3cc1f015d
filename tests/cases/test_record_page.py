"""The person's record page (/espacio/personas/<id>/ and /portal/personas/<id>/).

The page shows only what ``sharing.record.record_for`` gives the viewer: each category
of each recording service at its level (full: the entries; indicator: "Hay información
en el área X registrada por Y"; hidden: nothing), grouped by service, with the household
and its minors, a benefits map (every benefit of every system seen in full, one line each; at
indicator level only whether one is in force today), the diary of each service with its
reference professional, the documents, the person's consents with their scope in plain
Spanish, and why each category is not visible. A hidden category answers byte for byte
as if there were no data, and the page costs the same number of queries for a small and
a large record.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import models as m
from consent.models import ConsentRevocation
from consent.purposes import Purpose
from ris.accounts.models import Role
from sharing.models import DisclosureLogEntry
from tests.factories import (
    ConsentFactory,
    HouseholdFactory,
    HouseholdMemberFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    enrol,
    make_section_entry,
)

pytestmark = pytest.mark.django_db

FOLLOW_UP = Purpose.FOLLOW_UP.value
SECTION = re.compile(
    r'<section class="category level-(?P<level>[a-z]+)" aria-labelledby="cat-(?P<code>[a-z_]+)-(?P<source>[a-z_]+)">'
    r"(?P<body>.*?)</section>",
    re.S,
)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def sections(html: str) -> dict[tuple[str, str], dict]:
    return {(s["code"], s["source"]): {"level": s["level"], "body": s["body"]} for s in SECTION.finditer(html)}


PART = re.compile(r'<section aria-labelledby="([^"]+)" class="(?:card )?record-part">')


def part(html: str, title_id: str) -> str:
    """The HTML of the page part whose heading has ``title_id`` (up to the next part)."""
    starts = [(match.start(), match.group(1)) for match in PART.finditer(html)]
    for index, (start, found) in enumerate(starts):
        if found == title_id:
            end = starts[index + 1][0] if index + 1 < len(starts) else len(html)
            return html[start:end]
    raise AssertionError(f"no part {title_id}")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín", last_name_2="Sáez")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


def record_url(person, **params) -> str:
    return f"/espacio/personas/{person.pk}/"


def get_page(client, person, purpose=FOLLOW_UP, prefix="/espacio"):
    response = client.get(f"{prefix}/personas/{person.pk}/", {"finalidad": purpose})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def social_entry(model, person, org, user=None, **values):
    return make_section_entry(model, person=person, organisation=org, recorded_by=user, **values)


def consent_for(person, *, services=("employment",), recorded_by, org, **extra):
    values = dict(person=person, grantee_services=list(services), purposes=[FOLLOW_UP], recorded_by=recorded_by,
                  recorded_by_org=org)
    values.update(extra)
    return ConsentFactory(**values)


# --- Levels per role and consent ------------------------------------------------------------------------


def test_the_social_worker_sees_her_service_in_full_and_state_benefits_only_as_an_indicator(
    client_for, social_worker, person, social_services_centre, employment_office, employment_counsellor,
):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker, need_assessment="VALOR-EXCLUSION")
    social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor,
                 monthly_amount=Decimal("812.34"), start_date=timezone.localdate() - dt.timedelta(days=10))
    consent_for(person, services=("social",), recorded_by=social_worker, org=social_services_centre)

    html = get_page(client_for(social_worker), person)
    shown = sections(html)
    assert shown[("exclusion_social", "social")]["level"] == "full"
    assert "VALOR-EXCLUSION" in shown[("exclusion_social", "social")]["body"]
    assert "Información completa" in shown[("exclusion_social", "social")]["body"]
    assert ("prestaciones_estatales", "employment") not in shown  # the map's "Sí" is all there is
    assert benefits_row(html, "Prestación estatal").endswith("Sí")
    assert "812.34" not in html and "812,34" not in html


def test_without_consent_the_orientador_sees_no_social_data_and_is_told_why(
    client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker, need_assessment="VALOR-EXCLUSION")
    html = get_page(client_for(employment_counsellor), person)
    assert ("exclusion_social", "social") not in sections(html)
    assert "VALOR-EXCLUSION" not in html
    reasons = text(part(html, "nv-title"))
    assert ("Situación de exclusión social (Servicios sociales): "
            "Sin consentimiento ni base jurídica para esta finalidad.") in reasons


def test_with_consent_the_orientador_gets_social_data_but_family_and_health_only_as_indicators(
    client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker, need_assessment="VALOR-EXCLUSION")
    social_entry(m.FamilySituation, person, social_services_centre, social_worker, description="VALOR-FAMILIA")
    social_entry(m.HealthRecord, person, social_services_centre, social_worker, description="VALOR-SALUD")
    consent_for(person, recorded_by=social_worker, org=social_services_centre)

    html = get_page(client_for(employment_counsellor), person)
    shown = sections(html)
    assert shown[("exclusion_social", "social")]["level"] == "full"
    assert "VALOR-EXCLUSION" in html
    for code, label in (("situacion_familiar", "Situación personal y familiar"), ("salud", "Salud y discapacidad")):
        assert shown[(code, "social")]["level"] == "indicator"
        sentence = f"Hay información en el área «{label}» registrada por Servicios sociales."
        assert sentence in shown[(code, "social")]["body"]
    assert "VALOR-FAMILIA" not in html and "VALOR-SALUD" not in html


def test_a_consent_for_another_purpose_opens_nothing(
    client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker, need_assessment="VALOR-EXCLUSION")
    consent_for(person, recorded_by=social_worker, org=social_services_centre, purposes=[Purpose.INTAKE])
    client = client_for(employment_counsellor)
    assert "VALOR-EXCLUSION" not in get_page(client, person, FOLLOW_UP)
    assert "VALOR-EXCLUSION" in get_page(client, person, Purpose.INTAKE)


def test_categories_are_grouped_by_the_service_that_recorded_them(
    client_for, social_worker, person, social_services_centre, employment_office, employment_counsellor,
):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker)
    social_entry(m.EmployabilityLevel, person, employment_office, employment_counsellor, factors="VALOR-EMPLEO")
    consent_for(person, services=("social",), recorded_by=social_worker, org=social_services_centre)
    html = get_page(client_for(social_worker), person)
    social_part = part(html, "servicio-social-title")
    employment_part = part(html, "servicio-employment-title")
    assert 'aria-labelledby="cat-exclusion_social-social"' in social_part
    assert 'aria-labelledby="cat-empleabilidad-employment"' in employment_part
    assert "VALOR-EMPLEO" in employment_part
    assert "Información registrada por Servicio público de empleo" in employment_part


# --- Benefits map ------------------------------------------------------------------------------------------


def benefits_part(html: str) -> str:
    return part(html, "prestaciones-title")


def benefit_lines(html: str) -> list[str]:
    """The lines of the map, as text: system, benefit, state, start, end, amount, answer."""
    table = benefits_part(html).split("<tbody>")[1].split("</tbody>")[0]
    return [text(row).strip() for row in re.findall(r"<tr>.*?</tr>", table, re.S)]


def benefits_row(html: str, label: str) -> str:
    return next(line for line in benefit_lines(html) if label in line)


STATE = "Prestación estatal"
MINIMUM = "Renta mínima o prestación no estatal"
EMPLOYMENT_SYSTEM = "Servicio público de empleo"
SOCIAL_SYSTEM = "Servicios sociales"


def ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def test_the_benefits_map_indicator_says_yes_only_for_a_benefit_in_force_today(
    client_for, social_worker, person, employment_office, employment_counsellor, social_services_centre,
):
    """State benefits are an indicator for social services: "percibe prestación: sí/no", and no more.
    A benefit that ended, or has not started, is a "No" exactly like no benefit at all."""
    consent_for(person, services=("social",), recorded_by=social_worker, org=social_services_centre)
    client = client_for(social_worker)
    today = timezone.localdate()
    nothing_page = CSRF.sub("", get_page(client, person))
    nothing = benefits_part(nothing_page)
    assert benefits_row(nothing, STATE) == f"{EMPLOYMENT_SYSTEM} {STATE} (desempleo, subsidio, RAI, pensión) " \
                                           "Sin detalle: solo puede saber si percibe alguna hoy. No"

    ended = social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor, kind="rai",
                         monthly_amount=Decimal("480.00"), start_date=today - dt.timedelta(days=900),
                         end_date=today - dt.timedelta(days=500))
    assert benefits_part(get_page(client, person)) == nothing
    # and nowhere else on the page (not even in "Información no disponible") does it differ
    assert CSRF.sub("", get_page(client, person)) == nothing_page
    ended.delete()
    social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor, kind="rai",
                 start_date=today + dt.timedelta(days=3))
    assert benefits_part(get_page(client, person)) == nothing

    social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor, kind="contributory",
                 monthly_amount=Decimal("812.34"), start_date=today - dt.timedelta(days=10))
    html = get_page(client, person)
    assert benefits_row(html, STATE).endswith("Sin detalle: solo puede saber si percibe alguna hoy. Sí")
    for detail in ("812", "contributiva", "Prestación por desempleo", ddmmyyyy(today - dt.timedelta(days=10)),
                   'aria-labelledby="cat-prestaciones_estatales-employment"', "Hay información en el área"):
        assert detail not in benefits_part(html), detail
    assert "812" not in html


def test_the_benefits_map_indicator_is_the_same_for_any_benefit_in_force(
    client_for, social_worker, employment_counsellor, social_services_centre, employment_office,
):
    """Neither the kind, the amount, the dates nor the number of benefits in force shows through."""
    sections = []
    for kind, amount, days, how_many in (("rai", "480.00", 30, 1), ("contributory", "1200.00", 400, 2)):
        someone = PersonFactory()
        enrol(someone, social_services_centre)
        enrol(someone, employment_office)
        consent_for(someone, services=("social",), recorded_by=social_worker, org=social_services_centre)
        for _ in range(how_many):
            social_entry(m.UnemploymentBenefit, someone, employment_office, employment_counsellor, kind=kind,
                         monthly_amount=Decimal(amount),
                         start_date=timezone.localdate() - dt.timedelta(days=days))
        section = benefits_part(get_page(client_for(social_worker), someone))
        sections.append(section.replace(f"/personas/{someone.pk}/", "/personas/<id>/"))  # the links to add one
    assert sections[0] == sections[1]
    assert benefits_row(sections[0], STATE).endswith("Sí")


def test_the_benefits_map_lists_every_benefit_seen_in_full_one_line_each(
    client_for, employment_counsellor, person, employment_office, social_services_centre, social_worker,
):
    """Each benefit of each system the viewer sees in full is a line of its own: system, kind,
    state, dates (dd/mm/aaaa), monthly amount and whether it is in force today; in force first."""
    client = client_for(employment_counsellor)
    today = timezone.localdate()
    assert benefit_lines(get_page(client, person)) == [
        f"{SOCIAL_SYSTEM} {MINIMUM} — No consta",  # no consent: hidden
        f"{EMPLOYMENT_SYSTEM} {STATE} (desempleo, subsidio, RAI, pensión) Ninguna registrada. No",
    ]
    old_start, old_end = today - dt.timedelta(days=400), today - dt.timedelta(days=30)
    social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor, kind="rai",
                 monthly_amount=Decimal("480.00"), start_date=old_start, end_date=old_end)
    social_entry(m.UnemploymentBenefit, person, employment_office, employment_counsellor, kind="assistance",
                 monthly_amount=Decimal("570.00"), start_date=today - dt.timedelta(days=5))
    social_entry(m.MinimumIncome, person, social_services_centre, social_worker, scheme="imv", status="granted",
                 monthly_amount=Decimal("604.21"), start_date=today - dt.timedelta(days=60))
    consent_for(person, recorded_by=social_worker, org=social_services_centre)

    html = get_page(client, person)
    assert benefit_lines(html) == [
        f"{SOCIAL_SYSTEM} Ingreso mínimo vital Concedida {ddmmyyyy(today - dt.timedelta(days=60))} — 604,21 € Sí",
        f"{EMPLOYMENT_SYSTEM} Subsidio por desempleo En vigor {ddmmyyyy(today - dt.timedelta(days=5))} — "
        "570,00 € Sí",
        f"{EMPLOYMENT_SYSTEM} Renta activa de inserción (RAI) Extinguida {ddmmyyyy(old_start)} "
        f"{ddmmyyyy(old_end)} 480,00 € No",
    ]
    table = benefits_part(html)
    assert f'<time datetime="{old_end.isoformat()}">{ddmmyyyy(old_end)}</time>' in table
    assert '<data value="480.00">480,00 €</data>' in table
    # the entries themselves, with their editing links, are under the map once
    assert table.count('aria-labelledby="cat-prestaciones_estatales-employment"') == 1
    assert table.count('aria-labelledby="cat-rentas_minimas-social"') == 1
    assert "/secciones/unemploymentbenefit/nueva/" in table


def test_the_benefits_map_minimum_income_needs_it_granted_and_in_force(
    client_for, social_worker, person, social_services_centre,
):
    client = client_for(social_worker)
    today = timezone.localdate()
    social_entry(m.MinimumIncome, person, social_services_centre, social_worker, scheme="regional", status="applied",
                 start_date=today)
    assert benefit_lines(get_page(client, person))[0] == (
        f"{SOCIAL_SYSTEM} Renta mínima autonómica Solicitada {ddmmyyyy(today)} — — No")
    social_entry(m.MinimumIncome, person, social_services_centre, social_worker, scheme="imv", status="granted",
                 monthly_amount=Decimal("604.21"), start_date=today - dt.timedelta(days=60))
    html = get_page(client, person)
    assert benefit_lines(html)[:2] == [
        f"{SOCIAL_SYSTEM} Ingreso mínimo vital Concedida {ddmmyyyy(today - dt.timedelta(days=60))} — 604,21 € Sí",
        f"{SOCIAL_SYSTEM} Renta mínima autonómica Solicitada {ddmmyyyy(today)} — — No",
    ]
    assert "604.21" in sections(html)[("rentas_minimas", "social")]["body"]


def test_another_services_restricted_benefits_are_one_yes_or_no_line_without_detail(
    client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    """With the consent the orientador sees minimum incomes in full, but not those social services
    restricted: those are one line, in force today or not."""
    consent_for(person, recorded_by=social_worker, org=social_services_centre)
    today = timezone.localdate()
    social_entry(m.MinimumIncome, person, social_services_centre, social_worker, scheme="regional",
                 status="denied", start_date=today - dt.timedelta(days=90))
    restricted = social_entry(m.MinimumIncome, person, social_services_centre, social_worker, scheme="imv",
                              status="granted", monthly_amount=Decimal("604.21"),
                              start_date=today - dt.timedelta(days=60), restricted=True)
    client = client_for(employment_counsellor)
    other = f"{SOCIAL_SYSTEM} {MINIMUM} Otras, restringidas por el servicio que las registró: sin detalle."
    lines = benefit_lines(get_page(client, person))
    assert lines[:2] == [
        f"{SOCIAL_SYSTEM} Renta mínima autonómica Denegada {ddmmyyyy(today - dt.timedelta(days=90))} — — No",
        f"{other} Sí",
    ]
    m.MinimumIncome.objects.filter(pk=restricted.pk).update(end_date=today - dt.timedelta(days=1))
    html = get_page(client, person)
    assert benefit_lines(html)[1] == f"{other} No"
    assert "604" not in html and "Ingreso mínimo vital" not in benefits_part(html)


@pytest.mark.parametrize("model,values", [
    (m.MinimumIncome, {"scheme": "imv", "status": "granted", "monthly_amount": Decimal("604.21")}),
    (m.MinimumIncome, {"scheme": "regional", "status": "ended"}),
])
def test_a_hidden_benefit_leaves_the_benefits_map_byte_identical(
    model, values, client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    client = client_for(employment_counsellor)
    before = get_page(client, person)
    social_entry(model, person, social_services_centre, social_worker,
                 start_date=timezone.localdate() - dt.timedelta(days=60), **values)
    after = get_page(client, person)
    assert benefits_row(after, MINIMUM) == f"{SOCIAL_SYSTEM} {MINIMUM} — No consta"
    assert benefits_part(after) == benefits_part(before)
    assert CSRF.sub("", after) == CSRF.sub("", before)


# --- Hidden is missing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model,values", [
    (m.HealthRecord, {"description": "VALOR-SALUD"}),
    (m.MinimumIncome, {"monthly_amount": Decimal("604.21")}),
    (m.DiaryEntry, {"notes": "VALOR-DIARIO"}),
])
def test_a_hidden_category_answers_byte_identical_with_or_without_data(
    model, values, client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    """The orientador has no consent: social data are hidden, whether they exist or not."""
    client = client_for(employment_counsellor)
    before = CSRF.sub("", get_page(client, person))
    entry = social_entry(model, person, social_services_centre, social_worker, **values)
    after = CSRF.sub("", get_page(client, person))
    assert after == before
    assert model.CATEGORY not in [c for c, s in sections(after) if s == "social"]
    assert entry.pk  # the data do exist


def test_the_household_and_its_minors(client_for, social_worker, person):
    household = HouseholdFactory(monthly_income=Decimal("900.00"))
    HouseholdMemberFactory(household=household, person=person)
    child = PersonFactory(first_name="Hugo", birth_date=timezone.localdate() - dt.timedelta(days=365 * 7))
    HouseholdMemberFactory(household=household, person=child, relationship="child")
    html = get_page(client_for(social_worker), person)
    household_part = part(html, "hogar-title")
    assert "Hay 1 menor en el hogar." in household_part
    assert re.search(r'<tr class="minor"><td>Hugo [^<]*<span class="tag">menor</span>', household_part)
    assert '<data value="900.00">900,00 €</data>' in household_part


def test_with_consent_the_orientador_sees_the_household_but_its_economy_only_as_an_indicator(
    client_for, employment_counsellor, person, social_services_centre, social_worker,
):
    household = HouseholdFactory(monthly_income=Decimal("900.00"))
    HouseholdMemberFactory(household=household, person=person, months_worked_last_year=3)
    consent_for(person, recorded_by=social_worker, org=social_services_centre)
    html = get_page(client_for(employment_counsellor), person)
    shown = sections(html)
    assert shown[("unidad_convivencia", "social")]["level"] == "full"
    assert shown[("situacion_economica", "social")]["level"] == "indicator"
    assert "900" not in shown[("situacion_economica", "social")]["body"]


# --- Diary, documents, consents ------------------------------------------------------------------------------


def test_the_diary_of_each_service_with_its_reference_professional(
    client_for, social_worker, person, social_services_centre, employment_office, employment_counsellor,
):
    m.ReferenceProfessional.objects.create(person=person, organisation=social_services_centre,
                                           professional=social_worker)
    social_entry(m.DiaryEntry, person, social_services_centre, social_worker, kind="home_visit",
                 happened_at=timezone.now() - dt.timedelta(days=2), demand="VALOR-DEMANDA")
    social_entry(m.DiaryEntry, person, employment_office, employment_counsellor, notes="VALOR-DIARIO-EMPLEO")
    html = get_page(client_for(social_worker), person)
    diary = part(html, "diario-title")
    assert "Profesional de referencia: Ana Trabajadora (CEAS Valladolid Centro)" in text(diary)
    assert "VALOR-DEMANDA" in sections(diary)[("atenciones", "social")]["body"]
    assert "Visita a domicilio" in diary
    assert "VALOR-DIARIO-EMPLEO" not in html  # the employment diary needs a consent
    assert ("atenciones", "employment") not in sections(html)


def test_consents_are_listed_with_state_and_scope_in_plain_spanish(
    client_for, employment_counsellor, person, social_services_centre, social_worker, employment_office,
):
    active = consent_for(person, recorded_by=social_worker, org=social_services_centre, denied_categories=["salud"])
    active.grantee_organisations.add(employment_office)
    revoked = consent_for(person, services=("third_sector",), recorded_by=social_worker, org=social_services_centre)
    ConsentRevocation.objects.create(consent=revoked, revoked_by=social_worker, channel="phone")
    html = get_page(client_for(employment_counsellor), person)  # another organisation sees them too
    consents = text(part(html, "consentimientos-title"))
    assert f"Consentimiento nº {active.pk} Vigente" in consents
    assert "Pueden ver: toda la información de los demás servicios, excepto: Salud y discapacidad." in consents
    assert "Autoriza a: Servicio público de empleo (cualquier organización de ese tipo que la atienda); " \
           "Oficina de Empleo Valladolid Centro." in consents
    assert "Solo para: Seguimiento." in consents
    assert f"Consentimiento nº {revoked.pk} Revocado" in consents
    assert "(por teléfono). Desde entonces no autoriza nada." in consents


def test_the_coordinator_reads_but_has_no_editing_actions(client_for, coordinator, person, social_services_centre,
                                                          social_worker):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker)
    html = get_page(client_for(coordinator), person)
    assert ("exclusion_social", "social") in sections(html)
    assert "/secciones/" not in html and "Registrar un consentimiento" not in html


def test_the_social_worker_gets_editing_links_for_her_own_sections_only(
    client_for, social_worker, person, social_services_centre, employment_office, employment_counsellor,
):
    entry = social_entry(m.ExclusionSituation, person, social_services_centre, social_worker)
    other = social_entry(m.EmployabilityLevel, person, employment_office, employment_counsellor)
    consent_for(person, services=("social",), recorded_by=social_worker, org=social_services_centre)
    html = get_page(client_for(social_worker), person)
    assert f"/espacio/personas/{person.pk}/secciones/exclusionsituation/{entry.pk}/" in html
    assert f"/secciones/employabilitylevel/{other.pk}/" not in html
    assert f"/espacio/personas/{person.pk}/secciones/exclusionsituation/nueva/" in html
    assert "/secciones/employabilitylevel/nueva/" not in html


# --- Access ---------------------------------------------------------------------------------------------------


def test_a_person_not_attended_is_a_404_like_a_missing_one(client_for, social_worker):
    stranger = PersonFactory()
    client = client_for(social_worker)
    client.raise_request_exception = False
    a = client.get(f"/espacio/personas/{stranger.pk}/")
    b = client.get(f"/espacio/personas/{stranger.pk + 10_000}/")
    assert a.status_code == b.status_code == 404
    assert a.content == b.content
    assert DisclosureLogEntry.objects.filter(person=stranger, event="refused").count() == 1


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR])
def test_roles_without_record_access_get_404(role, client_for, social_services_centre, person):
    user = UserFactory()
    MembershipFactory(user=user, organisation=social_services_centre, role=role)
    client = client_for(user)
    assert client.get(f"/espacio/personas/{person.pk}/").status_code == 404
    assert client.get(f"/espacio/personas/{person.pk}/historial/").status_code == 404


def test_each_space_answers_only_its_roles(client_for, social_worker, ngo_technician, ngo, person):
    enrol(person, ngo)
    assert client_for(ngo_technician).get(f"/espacio/personas/{person.pk}/").status_code == 404
    assert client_for(ngo_technician).get(f"/espacio/personas/{person.pk}/historial/").status_code == 404
    assert client_for(social_worker).get(f"/portal/personas/{person.pk}/").status_code == 404
    assert client_for(social_worker).get(f"/portal/personas/{person.pk}/historial/").status_code == 404
    page = client_for(ngo_technician).get(f"/portal/personas/{person.pk}/")
    assert page.status_code == 200
    assert "/espacio/" not in page.content.decode().split('id="record-body"')[1]


def test_choosing_another_purpose_with_htmx_answers_only_the_record_body(client_for, social_worker, person):
    response = client_for(social_worker).get(f"/espacio/personas/{person.pk}/", {"finalidad": Purpose.INTAKE},
                                              HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-body")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="record-body"') and "<html" not in html
    assert '<option value="acogida" selected>' in html


def test_an_unknown_purpose_falls_back_to_follow_up(client_for, social_worker, person):
    html = get_page(client_for(social_worker), person, purpose="evaluacion")
    assert '<option value="seguimiento" selected>' in html


def test_the_page_is_accessible_markup(client_for, social_worker, person, social_services_centre):
    social_entry(m.ExclusionSituation, person, social_services_centre, social_worker)
    html = get_page(client_for(social_worker), person)
    assert '<label for="finalidad">' in html
    assert html.count("<h1") == 1
    for title_id in ("ficha-title", "hogar-title", "prestaciones-title", "diario-title", "documentos-title",
                     "consentimientos-title"):
        assert f'id="{title_id}"' in html and f'aria-labelledby="{title_id}"' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert re.search(r"\d{4}-\d{2}-\d{2}", text(html)) is None, "dates are printed dd/mm/aaaa"


# --- Queries ---------------------------------------------------------------------------------------------------

#: The diagnostics part adds one read per model and one for the area results (4), and, when it
#: shows entries of another service that ``sharing.record`` had not logged, one more append to
#: the disclosure log (5 statements): always the same whatever the number of entries.
QUERY_BOUND = 55


def _fill(person, orgs: dict, user, n: int) -> None:
    today = timezone.localdate()
    from ris.reference.models import BasicSocialService

    service = BasicSocialService.objects.order_by("code").first()
    owner = {"social": orgs["social"], "employment": orgs["employment"], "third_sector": orgs["third_sector"]}
    samples = {
        m.SocialCompetences: dict(assessed_on=today, pre_work_skills="h", can_follow_itinerary=True),
        m.MotivationAssessment: dict(assessed_on=today, motivation_level="high"),
        m.PlannedService: dict(basic_service=service, description="s", start_date=today),
        m.MinimumIncome: dict(scheme="imv", status="granted", monthly_amount=Decimal("500.00"), start_date=today),
        m.FamilySituation: dict(description="f"),
        m.ExclusionSituation: dict(assessed_on=today, severity="moderate", need_assessment="n"),
        m.InformalWork: dict(activity="a"),
        m.LegalStatus: dict(residence_status="residence_work"),
        m.HealthRecord: dict(description="s"),
        m.CriminalRecord: dict(description="p"),
        m.JobSeekerRecord: dict(status="unemployed"),
        m.EmploymentHistoryEntry: dict(employer="e", start_date=today),
        m.UnemploymentBenefit: dict(kind="rai", start_date=today),
        m.EmployabilityLevel: dict(assessed_on=today, level="medium"),
        m.ActivePolicyItinerary: dict(programme="p", start_date=today),
        m.SocialFolderIntervention: dict(date=today, kind="training", description="i"),
        m.CompanyIntermediation: dict(date=today, company="c", position="p"),
        m.ChildPovertyDetection: dict(detected_on=today, minors_affected=1, description="d"),
        m.DiaryEntry: dict(kind="phone_call", happened_at=timezone.now() - dt.timedelta(hours=1)),
    }
    from sharing.categories import BY_CODE

    for model, values in samples.items():
        service_kind = BY_CODE[model.CATEGORY].owner_service
        org = owner["social" if service_kind == "common" else service_kind]
        model.objects.bulk_create([
            model(person=person, recorded_by_service=org.kind, recorded_by_org=org, recorded_by=user,
                  restricted=i % 4 == 3, **values) for i in range(n)
        ])
    _fill_diagnostics(person, orgs, user, n)
    m.Attachment.objects.bulk_create([
        m.Attachment(person=person, recorded_by_service="social", recorded_by_org=orgs["social"], recorded_by=user,
                     category="exclusion_social", kind="informe", title=f"Informe {i}", file=f"attachments/x{i}.pdf",
                     original_name=f"informe{i}.pdf", content_type="application/pdf", size=1000, sha256="0" * 64)
        for i in range(n)
    ])


def _fill_diagnostics(person, orgs: dict, user, n: int) -> None:
    """Assessments with their area results, diagnoses, and screenings recorded by every service."""
    from diagnostics.models import (
        BasicEmployabilityScreening,
        EmployabilityAssessment,
        ExclusionAreaResult,
        ExclusionAssessment,
        Instrument,
    )

    today = timezone.localdate()
    instrument = Instrument.objects.get(code="foessa-35")
    assessments = ExclusionAssessment.objects.bulk_create([
        ExclusionAssessment(person=person, recorded_by_service="social", recorded_by_org=orgs["social"],
                            recorded_by=user, restricted=i % 4 == 3, instrument=instrument, assessed_on=today,
                            total_score=Decimal(2), level="moderate")
        for i in range(n)
    ])
    ExclusionAreaResult.objects.bulk_create([
        ExclusionAreaResult(assessment=a, area=area, score=Decimal(1), level="risk")
        for a in assessments for area in instrument.areas.all()
    ])
    EmployabilityAssessment.objects.bulk_create([
        EmployabilityAssessment(person=person, recorded_by_service="employment", recorded_by_org=orgs["employment"],
                                recorded_by=user, restricted=i % 4 == 3, assessed_on=today, level="low",
                                suggested_level="low", age=50, languages=["es", "ar"])
        for i in range(n)
    ])
    answers = {q: bool(i % 2) for i, q in enumerate((
        "has_work_experience", "completed_compulsory_education", "speaks_spanish", "available_for_work",
        "has_driving_licence", "basic_digital_skills"))}
    BasicEmployabilityScreening.objects.bulk_create([
        BasicEmployabilityScreening(person=person, recorded_by_service=org.kind, recorded_by_org=org, recorded_by=user,
                                    restricted=i % 4 == 3, screened_on=today, result="medium", **answers)
        for org in orgs.values() for i in range(n)
    ])


def test_the_page_costs_the_same_queries_for_a_small_and_a_large_record(
    client_for, social_worker, social_services_centre, employment_office, ngo, employment_counsellor,
    django_assert_max_num_queries,
):
    orgs = {"social": social_services_centre, "employment": employment_office, "third_sector": ngo}
    small, big = PersonFactory(), PersonFactory()
    for p, n in ((small, 1), (big, 25)):
        enrol(p, social_services_centre)
        enrol(p, employment_office)
        _fill(p, orgs, social_worker, n)
        consent_for(p, services=("social",), recorded_by=social_worker, org=social_services_centre)
        m.ReferenceProfessional.objects.create(person=p, organisation=social_services_centre,
                                               professional=social_worker)
    household = HouseholdFactory(monthly_income=Decimal("900.00"))
    HouseholdMemberFactory(household=household, person=big)
    for _ in range(4):
        HouseholdMemberFactory(household=household, person=PersonFactory(), relationship="child")
    small_household = HouseholdFactory()
    HouseholdMemberFactory(household=small_household, person=small)
    for i in range(7):  # 8 consents in all for the big record, some revoked
        consent = consent_for(big, services=("third_sector",), recorded_by=social_worker, org=social_services_centre)
        consent.grantee_organisations.add(ngo, employment_office)
        if i % 2:
            ConsentRevocation.objects.create(consent=consent, revoked_by=social_worker, channel="written")
    client = client_for(social_worker)
    client.get(f"/espacio/personas/{small.pk}/")  # warm the session
    counts = []
    for p in (small, big):
        with django_assert_max_num_queries(QUERY_BOUND) as ctx:
            response = client.get(f"/espacio/personas/{p.pk}/", {"finalidad": FOLLOW_UP})
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    html = response.content.decode()
    assert html.count('class="entry"') > 25 * 10  # the big record is really read and shown
    assert html.count("consent-card") == 8
    assert "Informe 24" in html
    shown = sections(html)  # the diagnostics parts are really read and shown too
    assert shown[("empleabilidad", "social")]["body"].count("Cribado básico orientativo") >= 25
    assert shown[("empleabilidad", "third_sector")]["body"].count('class="entry"') >= 18
    assert shown[("exclusion_social", "social")]["body"].count("Área: Vivienda") == 25
    assert 'id="perfilado-title"' in html


# --- History -----------------------------------------------------------------------------------------------------


def test_the_history_shows_changes_of_what_the_viewer_sees_in_full(
    client_for, social_worker, employment_counsellor, person, social_services_centre, django_assert_max_num_queries,
):
    from cases import services
    from ris.accounts.viewer import Viewer

    entry = social_entry(m.ExclusionSituation, person, social_services_centre, social_worker, need_assessment="Antes")
    health = social_entry(m.HealthRecord, person, social_services_centre, social_worker, description="SALUD-ANTES")
    viewer = Viewer.from_membership(social_worker.memberships.get())
    services.entry_update(viewer=viewer, entry=entry, version=1, data={"need_assessment": "Después"})
    services.entry_update(viewer=viewer, entry=health, version=1, data={"description": "SALUD-DESPUÉS"})

    client = client_for(social_worker)
    url = f"/espacio/personas/{person.pk}/historial/"
    client.get(url)
    with django_assert_max_num_queries(20):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Valoración de la necesidad" in html and "Antes" in html and "Después" in html
    assert "Situación de exclusión social · Servicios sociales" in text(html)
    assert re.search(r"<time datetime=\"\d{4}-\d{2}-\d{2}\">\d{2}/\d{2}/\d{4}</time>", html)

    consent_for(person, recorded_by=social_worker, org=social_services_centre)
    other = client_for(employment_counsellor).get(url).content.decode()
    assert "Después" in other  # exclusion: full with the consent
    assert "SALUD" not in other  # health: only an indicator for employment, so no history either


def test_the_history_answers_404_outside_the_caseload_and_the_space(client_for, social_worker, ngo_technician):
    stranger = PersonFactory()
    assert client_for(social_worker).get(f"/espacio/personas/{stranger.pk}/historial/").status_code == 404
    assert client_for(ngo_technician).get(f"/portal/personas/{stranger.pk}/historial/").status_code == 404
