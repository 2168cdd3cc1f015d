"""Editing the record from its page: the sections of one's own service and the basic sheet.

Create and edit forms exist for every section model of the viewer's service (and the
common diary); another service's sections and entries answer 404, as if they did not
exist. Bad input gets a clear Spanish message and nothing is lost. Every edit carries
the version it was read at: a second person saving a stale form is told, their input is
kept, and the values saved meanwhile are shown beside it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases import models as m
from cases import services
from cases.record_forms import sections_of
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from tests.factories import MembershipFactory, PersonFactory, UserFactory, enrol, make_section_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def new_url(person, slug: str) -> str:
    return f"/espacio/personas/{person.pk}/secciones/{slug}/nueva/"


def edit_url(person, entry) -> str:
    return f"/espacio/personas/{person.pk}/secciones/{entry._meta.model_name}/{entry.pk}/"


def past(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).strftime("%d/%m/%Y")


# --- Which sections each service edits --------------------------------------------------------------------


def test_each_service_edits_its_own_sections_and_the_diary():
    social = {model.__name__ for model in sections_of("social")}
    employment = {model.__name__ for model in sections_of("employment")}
    third = {model.__name__ for model in sections_of("third_sector")}
    assert {"ExclusionSituation", "HealthRecord", "MinimumIncome", "DiaryEntry"} <= social
    assert not {"JobSeekerRecord", "UnemploymentBenefit", "SocialFolderIntervention"} & social
    assert {"JobSeekerRecord", "EmploymentHistoryEntry", "UnemploymentBenefit", "DiaryEntry"} <= employment
    assert not {"ExclusionSituation", "HealthRecord"} & employment
    assert {"SocialFolderIntervention", "CompanyIntermediation", "ChildPovertyDetection", "DiaryEntry"} == third


@pytest.mark.parametrize("model", sections_of("social"), ids=lambda model: model.__name__)
def test_every_social_section_has_a_create_form(model, client_for, social_worker, person,
                                                django_assert_max_num_queries):
    client = client_for(social_worker)
    client.get(new_url(person, model._meta.model_name))
    with django_assert_max_num_queries(20):
        response = client.get(new_url(person, model._meta.model_name))
    assert response.status_code == 200
    html = response.content.decode()
    for hidden in ("recorded_by_service", "recorded_by_org", 'name="person"', 'name="version"'):
        assert hidden not in html
    assert 'name="restricted"' in html


# --- Creating ------------------------------------------------------------------------------------------------


def test_the_social_worker_records_an_exclusion_assessment(client_for, social_worker, person):
    response = client_for(social_worker).post(new_url(person, "exclusionsituation"), {
        "assessed_on": past(3), "severity": "moderate", "need_assessment": "Necesita apoyo para la vivienda",
    })
    entry = m.ExclusionSituation.objects.get(person=person)
    assert response.status_code == 302
    assert response.url == f"/espacio/personas/{person.pk}/#cat-exclusion_social-social"
    assert (entry.recorded_by_service, entry.recorded_by_id, entry.version) == ("social", social_worker.pk, 1)
    assert entry.assessed_on == timezone.localdate() - dt.timedelta(days=3)


def test_a_future_date_is_refused_in_spanish_and_the_input_is_kept(client_for, social_worker, person):
    future = (timezone.localdate() + dt.timedelta(days=5)).strftime("%d/%m/%Y")
    response = client_for(social_worker).post(new_url(person, "exclusionsituation"), {
        "assessed_on": future, "severity": "risk", "need_assessment": "Texto que no se pierde",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "La fecha no puede ser posterior a hoy." in html
    assert "Revise los datos: no se ha guardado nada todavía" in html
    assert "Texto que no se pierde" in html and f'value="{future}"' in html
    assert not m.ExclusionSituation.objects.exists()


@pytest.mark.parametrize("values,message", [
    ({"assessed_on": "31/02/2024"}, "Escriba la fecha como dd/mm/aaaa"),
    ({"severity": "muy_grave"}, "Escoja una opción válida"),
    ({"need_assessment": ""}, "Indique «Valoración de la necesidad»: es obligatorio."),
])
def test_bad_values_get_clear_spanish_errors(values, message, client_for, social_worker, person):
    data = {"assessed_on": past(1), "severity": "risk", "need_assessment": "Necesidad", **values}
    html = client_for(social_worker).post(new_url(person, "exclusionsituation"), data).content.decode()
    assert message in html
    assert not m.ExclusionSituation.objects.exists()


def test_a_value_out_of_range_is_refused(client_for, social_worker, person):
    html = client_for(social_worker).post(new_url(person, "informalwork"), {
        "activity": "Venta ambulante", "hours_per_week": "150",
    }).content.decode()
    assert "Asegúrese de que este valor es menor o igual a 100." in html
    assert not m.InformalWork.objects.exists()


def test_the_diary_refuses_a_future_contact_that_is_not_an_appointment(client_for, social_worker, person):
    tomorrow = (timezone.localtime() + dt.timedelta(days=1)).strftime("%d/%m/%Y %H:%M")
    client = client_for(social_worker)
    html = client.post(new_url(person, "diaryentry"), {"kind": "phone_call", "happened_at": tomorrow}).content.decode()
    assert "Solo una cita puede tener fecha futura." in html
    response = client.post(new_url(person, "diaryentry"), {"kind": "appointment", "happened_at": tomorrow})
    assert response.status_code == 302
    assert m.DiaryEntry.objects.get(person=person).kind == "appointment"


# --- Only one's own service -----------------------------------------------------------------------------------


def test_another_services_section_is_a_404(client_for, employment_counsellor, social_worker, person):
    assert client_for(employment_counsellor).get(new_url(person, "exclusionsituation")).status_code == 404
    assert client_for(employment_counsellor).post(new_url(person, "healthrecord"), {
        "description": "x",
    }).status_code == 404
    assert client_for(social_worker).get(new_url(person, "unemploymentbenefit")).status_code == 404
    assert client_for(social_worker).get(new_url(person, "noexiste")).status_code == 404
    assert not m.HealthRecord.objects.exists()


def test_another_services_entry_cannot_be_edited(client_for, employment_counsellor, social_worker, person,
                                                 social_services_centre):
    entry = make_section_entry(m.DiaryEntry, person=person, organisation=social_services_centre,
                               recorded_by=social_worker, notes="Nota social")
    client = client_for(employment_counsellor)
    # The diary is common, but each entry belongs to the service that wrote it.
    assert client.get(edit_url(person, entry)).status_code == 404
    response = client.post(edit_url(person, entry), {"kind": "interview", "happened_at": "01/01/2024 10:00",
                                                     "notes": "Cambiado", "version": "1"})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert (entry.notes, entry.version) == ("Nota social", 1)


def test_the_service_layer_refuses_another_services_entry_too(employment_counsellor, social_worker, person,
                                                               social_services_centre):
    entry = make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre,
                               recorded_by=social_worker)
    with pytest.raises(PermissionDenied):
        services.entry_update(viewer=viewer_of(employment_counsellor), entry=entry, version=1,
                              data={"need_assessment": "x"})


def test_an_entry_of_another_person_is_a_404(client_for, social_worker, person, social_services_centre):
    other = PersonFactory()
    enrol(other, social_services_centre)
    entry = make_section_entry(m.ExclusionSituation, person=other, organisation=social_services_centre)
    url = f"/espacio/personas/{person.pk}/secciones/exclusionsituation/{entry.pk}/"
    assert client_for(social_worker).get(url).status_code == 404


def test_a_person_outside_the_caseload_cannot_be_written(client_for, social_worker):
    stranger = PersonFactory()
    assert client_for(social_worker).get(new_url(stranger, "exclusionsituation")).status_code == 404
    assert client_for(social_worker).get(f"/espacio/personas/{stranger.pk}/ficha/").status_code == 404


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.EVALUATOR, Role.NGO_TECHNICIAN])
def test_roles_that_do_not_edit_get_404(role, client_for, social_services_centre, person):
    user = UserFactory()
    MembershipFactory(user=user, organisation=social_services_centre, role=role)
    client = client_for(user)
    assert client.get(new_url(person, "exclusionsituation")).status_code == 404
    assert client.get(f"/espacio/personas/{person.pk}/ficha/").status_code == 404


# --- Editing with optimistic locking -------------------------------------------------------------------------


def test_editing_an_entry_raises_its_version(client_for, social_worker, person, social_services_centre):
    entry = make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre,
                               recorded_by=social_worker, severity="risk", need_assessment="Antes")
    client = client_for(social_worker)
    form = client.get(edit_url(person, entry)).content.decode()
    assert 'name="version" value="1"' in form and "Antes" in form
    response = client.post(edit_url(person, entry), {
        "assessed_on": entry.assessed_on.strftime("%d/%m/%Y"), "severity": "moderate",
        "need_assessment": "Después", "version": "1",
    })
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.need_assessment, entry.severity, entry.version) == ("Después", "moderate", 2)


def test_a_stale_form_is_told_and_loses_nothing(client_for, social_worker, social_services_centre, person):
    colleague = UserFactory(first_name="Berta", last_name="Compañera")
    MembershipFactory(user=colleague, organisation=social_services_centre, role=Role.SOCIAL_WORKER)
    entry = make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre,
                               recorded_by=social_worker, severity="risk", need_assessment="Versión inicial")
    # Both open the form at version 1; the colleague saves first.
    services.entry_update(viewer=viewer_of(colleague), entry=entry, version=1,
                          data={"need_assessment": "Lo que guardó Berta"})
    response = client_for(social_worker).post(edit_url(person, entry), {
        "assessed_on": entry.assessed_on.strftime("%d/%m/%Y"), "severity": "severe",
        "need_assessment": "Lo que escribió Ana", "version": "1",
    })
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha guardado cambios en esta ficha mientras la editaba." in html
    assert "Lo que escribió Ana" in html  # her input is kept in the form
    assert "Lo que guardó Berta" in html  # the current value is shown beside it
    assert "Exclusión grave" in html and "Riesgo" in html
    assert 'name="version" value="2"' in html  # saving again overwrites knowingly
    entry.refresh_from_db()
    assert (entry.need_assessment, entry.severity, entry.version) == ("Lo que guardó Berta", "risk", 2)

    again = client_for(social_worker).post(edit_url(person, entry), {
        "assessed_on": entry.assessed_on.strftime("%d/%m/%Y"), "severity": "severe",
        "need_assessment": "Lo que escribió Ana", "version": "2",
    })
    assert again.status_code == 302
    entry.refresh_from_db()
    assert (entry.need_assessment, entry.version) == ("Lo que escribió Ana", 3)


def test_an_edit_without_version_is_refused(client_for, social_worker, person, social_services_centre):
    entry = make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre)
    response = client_for(social_worker).post(edit_url(person, entry), {
        "assessed_on": past(1), "severity": "risk", "need_assessment": "Sin versión",
    })
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.need_assessment != "Sin versión"


# --- The basic sheet ---------------------------------------------------------------------------------------------


def sheet_data(person, **changes) -> dict:
    data = {
        "first_name": person.first_name, "last_name_1": person.last_name_1, "last_name_2": person.last_name_2,
        "document_type": person.document_type, "document_number": person.document_number,
        "no_document_reason": "", "birth_date": person.birth_date.strftime("%d/%m/%Y"), "sex": person.sex,
        "nationality": "ES", "address_line": "Calle Mayor 3", "postal_code": "47001", "municipality": "",
        "phone": "600111222", "email": "", "education_level": "", "languages": "es, ar", "version": "1",
    }
    data.update(changes)
    return data


def test_the_orientador_updates_the_basic_sheet(client_for, employment_counsellor, person,
                                                django_assert_max_num_queries):
    client = client_for(employment_counsellor)
    client.get(f"/espacio/personas/{person.pk}/ficha/")
    with django_assert_max_num_queries(20):
        assert client.get(f"/espacio/personas/{person.pk}/ficha/").status_code == 200
    response = client.post(f"/espacio/personas/{person.pk}/ficha/", sheet_data(person, phone="699000111"))
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert (person.phone, person.languages, person.version) == ("699000111", ["es", "ar"], 2)


def test_a_bad_document_number_is_explained(client_for, social_worker, person):
    html = client_for(social_worker).post(f"/espacio/personas/{person.pk}/ficha/",
                                          sheet_data(person, document_number="12345678A")).content.decode()
    assert "letra" in html.lower()
    assert "Revise los datos" in html
    person.refresh_from_db()
    assert person.version == 1


def test_a_stale_basic_sheet_keeps_the_input(client_for, social_worker, employment_counsellor, person):
    services.person_update(viewer=viewer_of(employment_counsellor), person=person, version=1,
                           data={"phone": "611222333"})
    response = client_for(social_worker).post(f"/espacio/personas/{person.pk}/ficha/",
                                              sheet_data(person, phone="622333444"))
    html = response.content.decode()
    assert response.status_code == 409
    assert "622333444" in html and "611222333" in html
    person.refresh_from_db()
    assert person.phone == "611222333"


def test_the_municipality_is_typed_as_its_ine_code(client_for, social_worker, person):
    client = client_for(social_worker)
    html = client.post(f"/espacio/personas/{person.pk}/ficha/", sheet_data(person, municipality="99999")).content
    assert "No hay ningún municipio con ese código INE." in html.decode()
    response = client.post(f"/espacio/personas/{person.pk}/ficha/", sheet_data(person, municipality="47186"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.municipality_id == "47186"
    assert 'value="47186"' in client.get(f"/espacio/personas/{person.pk}/ficha/").content.decode()
