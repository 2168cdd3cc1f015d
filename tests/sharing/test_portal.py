"""The NGO restricted portal (/portal/).

- NGO technicians see the persons their organisation attends under a sharing agreement in
  force; without one the portal lists nobody and records nothing.
- They record interventions in the person's carpeta social and child-poverty detections
  (through cases.services.entry_create: the entry is theirs, their service's, their
  organisation's), with Spanish errors and nothing lost.
- Of the rest of the record they see only what consent, the matrix and the agreement allow
  (the page is sharing.record.record_for).
- No route of the staff workspace (/espacio/…) answers them (404), and the admin sends
  them to its login page.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from cases.models import (
    ChildPovertyDetection,
    FamilySituation,
    HealthRecord,
    SocialFolderIntervention,
)
from sharing.models import SharingAgreement
from tests.factories import PersonFactory, enrol, make_section_entry

HOME = "/portal/"


def agreement(organisation, *, days_left: int = 300, categories=("ficha_basica", "carpeta_social")):
    today = timezone.localdate()
    return SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio de colaboración",
        community_id="07",
        categories=list(categories),
        purposes=["follow_up", "assessment", "referral", "itinerary"],
        valid_from=today - dt.timedelta(days=100),
        valid_until=today + dt.timedelta(days=days_left),
        processing_terms="Encargo de tratamiento conforme al art. 28 RGPD",
    )


@pytest.fixture
def attended_by_ngo(ngo):
    person = PersonFactory(first_name="Rocío", last_name_1="Benavente", last_name_2="Lastra")
    enrol(person, ngo)
    return person


@pytest.fixture
def with_agreement(ngo):
    return agreement(ngo)


def intervention_url(person) -> str:
    return f"/portal/personas/{person.pk}/intervenciones/nueva/"


def child_poverty_url(person) -> str:
    return f"/portal/personas/{person.pk}/pobreza-infantil/nueva/"


# --- Who the NGO sees -----------------------------------------------------------------------------


def test_the_portal_lists_the_persons_attended_under_an_agreement(
    client_for, ngo_technician, attended_by_ngo, with_agreement, social_services_centre
):
    other = PersonFactory(last_name_1="Zarandona")
    enrol(other, social_services_centre)
    response = client_for(ngo_technician).get(HOME)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Benavente" in body and "Zarandona" not in body
    assert f'href="/portal/personas/{attended_by_ngo.pk}/"' in body


@pytest.mark.parametrize("state", ["none", "expired"])
def test_without_an_agreement_in_force_the_portal_lists_nobody(
    state, client_for, ngo_technician, ngo, attended_by_ngo
):
    SharingAgreement.objects.filter(organisation=ngo).delete()
    if state == "expired":
        SharingAgreement.objects.create(
            organisation=ngo,
            title="Convenio vencido",
            community_id="07",
            categories=["carpeta_social"],
            purposes=["follow_up"],
            valid_from=timezone.localdate() - dt.timedelta(days=400),
            valid_until=timezone.localdate() - dt.timedelta(days=1),
            processing_terms="—",
        )
    response = client_for(ngo_technician).get(HOME)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Benavente" not in body
    assert "no tiene un convenio vigente" in body


def test_the_portal_home_runs_in_a_constant_number_of_queries(
    client_for, ngo_technician, ngo, with_agreement, django_assert_max_num_queries
):
    client = client_for(ngo_technician)
    enrol(PersonFactory(), ngo)
    client.get(HOME)
    with CaptureQueriesContext(connection) as small:
        client.get(HOME)
    for _ in range(30):
        enrol(PersonFactory(), ngo)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(HOME).status_code == 200


# --- Recording in the carpeta social --------------------------------------------------------------


def test_an_intervention_is_recorded_as_the_ngos_own(
    client_for, ngo_technician, ngo, attended_by_ngo, with_agreement
):
    client = client_for(ngo_technician)
    assert client.get(intervention_url(attended_by_ngo)).status_code == 200
    response = client.post(
        intervention_url(attended_by_ngo),
        {
            "date": timezone.localdate().strftime("%d/%m/%Y"),
            "kind": "accompaniment",
            "description": "Acompañamiento a la oficina de vivienda",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/portal/personas/{attended_by_ngo.pk}/"
    entry = SocialFolderIntervention.objects.get(person=attended_by_ngo)
    assert (entry.recorded_by_service, entry.recorded_by_org_id, entry.recorded_by_id) == (
        "third_sector",
        ngo.pk,
        ngo_technician.pk,
    )
    record = client.get(f"/portal/personas/{attended_by_ngo.pk}/")
    assert "Acompañamiento a la oficina de vivienda" in record.content.decode()


def test_a_bad_intervention_gets_spanish_errors_and_nothing_is_lost(
    client_for, ngo_technician, attended_by_ngo, with_agreement
):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    response = client_for(ngo_technician).post(
        intervention_url(attended_by_ngo),
        {
            "date": tomorrow,
            "kind": "training",
            "description": "Curso de manipulación de alimentos",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "La fecha no puede ser posterior a hoy" in body
    assert "Curso de manipulación de alimentos" in body and f'value="{tomorrow}"' in body
    assert not SocialFolderIntervention.objects.exists()
    empty = client_for(ngo_technician).post(
        intervention_url(attended_by_ngo), {"date": "", "kind": "training"}
    )
    assert "Describa la intervención" in empty.content.decode()
    assert "Indique la fecha" in empty.content.decode()


def test_a_child_poverty_detection_is_recorded(
    client_for, ngo_technician, ngo, attended_by_ngo, with_agreement
):
    client = client_for(ngo_technician)
    zero = client.post(
        child_poverty_url(attended_by_ngo),
        {
            "detected_on": timezone.localdate().strftime("%d/%m/%Y"),
            "minors_affected": "0",
            "description": "x",
        },
    )
    assert "al menos un menor" in zero.content.decode()
    response = client.post(
        child_poverty_url(attended_by_ngo),
        {
            "detected_on": timezone.localdate().strftime("%d/%m/%Y"),
            "minors_affected": "2",
            "description": "Dos menores sin material escolar ni comedor",
        },
    )
    assert response.status_code == 302
    detection = ChildPovertyDetection.objects.get(person=attended_by_ngo)
    assert (
        detection.minors_affected,
        detection.recorded_by_service,
        detection.recorded_by_org_id,
    ) == (2, "third_sector", ngo.pk)


@pytest.mark.parametrize("url", [intervention_url, child_poverty_url])
def test_recording_for_a_person_not_attended_is_a_404(
    url, client_for, ngo_technician, with_agreement, social_services_centre
):
    theirs = PersonFactory()
    enrol(theirs, social_services_centre)
    client = client_for(ngo_technician)
    assert client.get(url(theirs)).status_code == 404
    assert (
        client.post(
            url(theirs), {"date": "01/01/2024", "kind": "other", "description": "x"}
        ).status_code
        == 404
    )
    assert not SocialFolderIntervention.objects.exists()


@pytest.mark.parametrize("url", [intervention_url, child_poverty_url])
def test_recording_without_an_agreement_in_force_is_a_404(
    url, client_for, ngo_technician, ngo, attended_by_ngo
):
    SharingAgreement.objects.filter(organisation=ngo).delete()
    assert client_for(ngo_technician).get(url(attended_by_ngo)).status_code == 404


@pytest.mark.parametrize("state", ["none", "expired"])
def test_without_an_agreement_in_force_nothing_of_a_person_can_be_read(
    state, client_for, ngo_technician, ngo, attended_by_ngo
):
    """The record, the printed social report and the API answer exactly as for a person that
    does not exist: the entity attends nobody until an agreement is in force again."""
    make_section_entry(
        SocialFolderIntervention, person=attended_by_ngo, organisation=ngo,
        description="Acompañamiento a la cita del banco de alimentos",
    )
    client = client_for(ngo_technician)
    paths = (
        "/portal/personas/{}/",
        "/portal/personas/{}/informe-social.pdf",
        "/api/v1/persons/{}/record/?purpose=seguimiento",
    )
    before = [client.get(path.format(attended_by_ngo.pk)) for path in paths]
    assert [r.status_code for r in before] == [200, 200, 200]
    SharingAgreement.objects.filter(organisation=ngo).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    if state == "none":
        SharingAgreement.objects.filter(organisation=ngo).delete()
    missing = attended_by_ngo.pk + 100_000
    for path in paths:
        response = client.get(path.format(attended_by_ngo.pk))
        assert response.status_code == 404, path
        assert response.content == client.get(path.format(missing)).content, path


# --- What the NGO sees of the rest ----------------------------------------------------------------


def test_the_portal_record_shows_only_what_consent_matrix_and_agreement_allow(
    client_for, ngo_technician, ngo, attended_by_ngo, with_agreement, social_services_centre
):
    """No consent: social services' data is not shown; health is at most an indicator for NGOs."""
    enrol(attended_by_ngo, social_services_centre)
    make_section_entry(
        HealthRecord,
        person=attended_by_ngo,
        organisation=social_services_centre,
        description="MARCA-SALUD-oculta",
    )
    make_section_entry(
        FamilySituation,
        person=attended_by_ngo,
        organisation=social_services_centre,
        description="MARCA-FAMILIA-sin-consentimiento",
    )
    make_section_entry(
        SocialFolderIntervention,
        person=attended_by_ngo,
        organisation=ngo,
        description="MARCA-CARPETA-propia",
    )
    body = (
        client_for(ngo_technician).get(f"/portal/personas/{attended_by_ngo.pk}/").content.decode()
    )
    assert "MARCA-CARPETA-propia" in body
    assert "MARCA-SALUD-oculta" not in body
    assert "MARCA-FAMILIA-sin-consentimiento" not in body


# --- Nothing else answers them --------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def _workspace_routes(resolver: URLResolver, prefix: str = "", area: str = "espacio/") -> list[str]:
    routes = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _workspace_routes(entry, route, area)
        elif isinstance(entry, URLPattern) and route.startswith(area):
            routes.append(route)
    return routes


def _fill(route: str, person_id: int) -> str:
    def value(match: re.Match) -> str:
        kind, name = match.group("kind") or "str", match.group("name")
        if kind == "int":
            return str(person_id) if name == "person_id" else "1"
        return "carpeta-social" if kind == "slug" else "x"

    return "/" + _CONVERTER.sub(value, route).lstrip("^").rstrip("$")


def test_the_walk_reaches_every_workspace_view():
    routes = _workspace_routes(get_resolver())
    assert "espacio/" in routes
    assert "espacio/buscar/" in routes and "espacio/personas/nueva/" in routes
    assert "espacio/personas/<int:person_id>/" in routes
    assert len(routes) >= 10


def _ngo_answers(client, person_id: int) -> list[tuple[str, str]]:
    answered = []
    for route in _workspace_routes(get_resolver()):
        url = _fill(route, person_id)
        view = get_resolver().resolve(url)._func_path
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            if status != 404:
                answered.append((view, f"{method.upper()} {url} → {status} ({view})"))
    return answered


def test_no_route_of_the_staff_workspace_answers_an_ngo_technician(
    client_for, ngo_technician, attended_by_ngo, with_agreement
):
    client = client_for(ngo_technician)
    client.raise_request_exception = False
    assert [line for _, line in _ngo_answers(client, attended_by_ngo.pk)] == []


@pytest.mark.parametrize("staff", ["social_worker", "employment_counsellor", "coordinator"])
def test_no_route_of_the_portal_answers_staff(staff, request, client_for, attended_by_ngo):
    client = client_for(request.getfixturevalue(staff))
    client.raise_request_exception = False
    routes = _workspace_routes(get_resolver(), area="portal/")
    assert "portal/derivaciones/" in routes and "portal/alertas/" in routes
    answered = [
        f"{method.upper()} {url} → {status}"
        for url in (_fill(route, attended_by_ngo.pk) for route in routes)
        for method in ("get", "post")
        if (status := getattr(client, method)(url).status_code) != 404
    ]
    assert answered == []


@pytest.mark.parametrize(
    "url",
    ["/portal/derivaciones/", "/portal/consultas/", "/portal/itinerarios/", "/portal/comisiones/",
     "/portal/alertas/", "/portal/recursos/"],
)
def test_the_technician_coordinates_from_the_portal(
    url, client_for, ngo_technician, with_agreement
):
    response = client_for(ngo_technician).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/espacio/' not in html  # every link stays inside the portal
    assert 'href="/portal/derivaciones/"' in html


def test_the_same_walk_lets_staff_in_so_it_can_fail(client_for, social_worker):
    client = client_for(social_worker)
    assert client.get(_fill("espacio/", 1)).status_code == 200
    assert client.get(_fill("espacio/buscar/", 1)).status_code == 200


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/cases/person/", "/admin/sharing/disclosurelogentry/"]
)
def test_the_admin_sends_an_ngo_technician_to_its_login(url, client_for, ngo_technician):
    response = client_for(ngo_technician).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- The portal is for NGO technicians only -------------------------------------------------------


@pytest.mark.parametrize(
    "persona",
    [
        "social_worker",
        "employment_counsellor",
        "coordinator",
        "evaluator",
        "dpo",
        "administrator",
        "outsider",
    ],
)
def test_the_portal_is_404_for_everyone_else(
    persona, request, client_for, attended_by_ngo, with_agreement
):
    client = client_for(request.getfixturevalue(persona))
    for url in (
        HOME,
        f"/portal/personas/{attended_by_ngo.pk}/",
        intervention_url(attended_by_ngo),
        child_poverty_url(attended_by_ngo),
    ):
        assert client.get(url).status_code == 404, url
