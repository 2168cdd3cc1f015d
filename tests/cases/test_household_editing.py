"""Recording the household (unidad de convivencia) from the workspace.

Social services, who own both household categories, edit the household of a person they
attend on two pages: its composition (/espacio/personas/<id>/unidad-convivencia/) and its
economy (…/unidad-convivencia/economia/). A member is another person the organisation
attends, found by exact DNI/NIE and birth date; a membership is ended with an end date,
never deleted, so the household keeps its history. A person with no household gets one.
Dates are dd/mm/aaaa and never in the future; bad input gets a clear Spanish message and
nothing is lost. Every save carries the household's version: a stale form is told, keeps
the input and overwrites nothing. Every change is in the change history and queues an
alert re-evaluation of every member. Employment services, NGOs and anyone not attending
the person get the 404 of a missing page; both pages cost the same number of queries
for a small and a large household.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import household as services
from cases.models import Household, HouseholdMember
from consent.purposes import Purpose
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from tests.factories import (
    ConsentFactory,
    HouseholdFactory,
    HouseholdMemberFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    enrol,
)

pytestmark = pytest.mark.django_db

PAGE_QUERIES = 25


def today() -> dt.date:
    return timezone.localdate()


def years_ago(years: int, days: int = 10) -> dt.date:
    """A birth date ``years`` years (and a few days) ago."""
    now = today()
    return now.replace(year=now.year - years) - dt.timedelta(days=days)


def typed(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def past(days: int) -> str:
    return typed(today() - dt.timedelta(days=days))


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def composition_url(person) -> str:
    return f"/espacio/personas/{person.pk}/unidad-convivencia/"


def economy_url(person) -> str:
    return f"/espacio/personas/{person.pk}/unidad-convivencia/economia/"


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín", last_name_2="Sáez", birth_date=years_ago(38))
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


@pytest.fixture
def household(person):
    """Lucía lives in a household as its holder since a year ago."""
    household = HouseholdFactory(address_line="Calle Mayor 3")
    HouseholdMemberFactory(household=household, person=person)
    return household


@pytest.fixture
def child(social_services_centre):
    """Hugo, seven years old, attended by the same social services centre."""
    child = PersonFactory(first_name="Hugo", last_name_1="Marín", birth_date=years_ago(7))
    enrol(child, social_services_centre)
    return child


@pytest.fixture
def partner(social_services_centre):
    partner = PersonFactory(first_name="Tomás", last_name_1="Gil", document_type="nie",
                            document_number="X1234567L", birth_date=years_ago(41))
    enrol(partner, social_services_centre)
    return partner


def add_data(member, household, *, version=None, **changes) -> dict:
    data = {
        "alta-household": str(household.pk), "alta-version": str(version or household.version),
        "alta-document_number": member.document_number, "alta-birth_date": typed(member.birth_date),
        "alta-relationship": "child", "alta-start_date": past(30),
    }
    data.update({f"alta-{k}": v for k, v in changes.items()})
    return data


def end_data(member_row, household, *, version=None, **changes) -> dict:
    data = {"baja-household": str(household.pk), "baja-version": str(version or household.version),
            "baja-member": str(member_row.pk), "baja-end_date": past(2)}
    data.update({f"baja-{k}": v for k, v in changes.items()})
    return data


def economy_data(household, *, version=None, **changes) -> dict:
    data = {"household": str(household.pk), "version": str(version or household.version),
            "monthly_income": "950,50", "monthly_expenses": "400", "economy_recorded_on": past(1),
            "housing_tenure": "rented"}
    data.update(changes)
    return data


def get_record(client, person) -> str:
    response = client.get(f"/espacio/personas/{person.pk}/", {"finalidad": Purpose.FOLLOW_UP.value})
    assert response.status_code == 200
    return response.content.decode()


# --- A person with no household ------------------------------------------------------------------------


def test_the_social_worker_creates_the_household_of_a_person_who_has_none(client_for, social_worker, person):
    client = client_for(social_worker)
    assert "Registrar la unidad de convivencia" in get_record(client, person)
    page = client.get(composition_url(person)).content.decode()
    assert "Lucía Marín Sáez no figura hoy en ninguna unidad de convivencia." in page

    response = client.post(f"{composition_url(person)}nueva/", {
        "relationship": "holder", "start_date": past(60), "address_line": "Calle del Pozo 8",
    })
    assert response.status_code == 302
    assert response.url == f"{composition_url(person)}#alta-title"
    membership = HouseholdMember.objects.select_related("household").get(person=person)
    assert (membership.relationship, membership.start_date, membership.end_date) == (
        "holder", today() - dt.timedelta(days=60), None)
    assert (membership.household.address_line, membership.household.version) == ("Calle del Pozo 8", 1)
    record = get_record(client, person)
    assert "Editar la unidad de convivencia" in record and "Editar la economía del hogar" in record


def test_a_household_is_not_created_with_a_future_date(client_for, social_worker, person):
    future = typed(today() + dt.timedelta(days=3))
    response = client_for(social_worker).post(f"{composition_url(person)}nueva/", {
        "relationship": "holder", "start_date": future, "address_line": "Calle que no se pierde 1",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "La fecha no puede ser posterior a hoy." in html
    assert "Revise los datos: no se ha guardado nada todavía" in html
    assert f'value="{future}"' in html and "Calle que no se pierde 1" in html
    assert not Household.objects.exists()


def test_a_second_household_for_the_same_person_is_refused_as_stale(client_for, social_worker, person, household):
    # The form was opened while Lucía had no household; a colleague created one meanwhile.
    response = client_for(social_worker).post(f"{composition_url(person)}nueva/", {
        "relationship": "partner", "start_date": past(5), "address_line": "Otra calle 2",
    })
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha registrado ya una unidad de convivencia para esta persona" in html
    assert "Otra calle 2" in html and "Calle Mayor 3" in html  # what she typed, beside what is saved
    assert Household.objects.count() == 1


# --- Adding a member -----------------------------------------------------------------------------------------


def test_a_member_is_found_by_dni_and_birth_date_and_the_record_then_shows_the_minor(
    client_for, social_worker, person, household, child,
):
    client = client_for(social_worker)
    response = client.post(f"{composition_url(person)}alta/", add_data(child, household))
    assert response.status_code == 302
    assert response.url == f"{composition_url(person)}#miembros-title"
    member = HouseholdMember.objects.get(person=child)
    assert (member.household_id, member.relationship, member.start_date) == (
        household.pk, "child", today() - dt.timedelta(days=30))
    household.refresh_from_db()
    assert household.version == 2

    page = client.get(composition_url(person)).content.decode()
    assert "Hugo Marín" in page and "Hay 1 menor en el hogar." in page
    record = get_record(client, person)
    assert "Hay 1 menor en el hogar." in record
    assert re.search(r'<tr class="minor"><td>Hugo Marín[^<]*<span class="tag">menor</span>', record)


def test_a_member_is_found_by_nie_too(client_for, social_worker, person, household, partner):
    response = client_for(social_worker).post(f"{composition_url(person)}alta/", add_data(
        partner, household, document_number="x-1234567-l", relationship="partner"))
    assert response.status_code == 302
    assert HouseholdMember.objects.get(person=partner).relationship == "partner"


@pytest.mark.parametrize("how", ["not_attended", "other_organisation", "wrong_birth_date"])
def test_a_person_outside_the_caseload_cannot_be_added(how, client_for, social_worker, person, household,
                                                      employment_office):
    stranger = PersonFactory(first_name="Extraña", birth_date=years_ago(30))
    data = add_data(stranger, household)
    if how == "other_organisation":
        enrol(stranger, employment_office)  # attended, but by another organisation
    elif how == "wrong_birth_date":
        enrol(stranger, person.enrolments.first().organisation)
        data["alta-birth_date"] = typed(stranger.birth_date - dt.timedelta(days=1))
    response = client_for(social_worker).post(f"{composition_url(person)}alta/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert ("No consta ninguna persona atendida por su organización con ese DNI o NIE y esa fecha de "
            "nacimiento.") in html
    assert "Extraña" not in html  # nothing about the person is told
    assert not HouseholdMember.objects.filter(person=stranger).exists()
    household.refresh_from_db()
    assert household.version == 1


def test_the_service_refuses_a_member_outside_the_caseload_too(social_worker, person, household):
    stranger = PersonFactory()
    with pytest.raises(ValidationError) as refused:
        services.member_add(viewer=viewer_of(social_worker), person_id=person.pk, household_id=household.pk,
                            version=1, member_person_id=stranger.pk, relationship="child",
                            start_date=today())
    assert "No consta ninguna persona atendida" in str(refused.value)
    assert not HouseholdMember.objects.filter(person=stranger).exists()


@pytest.mark.parametrize("changes,message", [
    ({"start_date": "FUTURE"}, "La fecha no puede ser posterior a hoy."),
    ({"start_date": "31/02/2024"}, "Escriba la fecha como dd/mm/aaaa"),
    ({"document_number": "12345678A"}, "La letra del DNI no es correcta"),
    ({"document_number": ""}, "Indique el DNI o NIE de la persona."),
    ({"relationship": ""}, "Indique el parentesco con la persona titular."),
    ({"relationship": "holder"}, "Esta unidad de convivencia ya tiene una persona titular."),
])
def test_bad_member_data_get_clear_spanish_errors(changes, message, client_for, social_worker, person, household,
                                                  child):
    if changes.get("start_date") == "FUTURE":
        changes = {"start_date": typed(today() + dt.timedelta(days=1))}
    response = client_for(social_worker).post(f"{composition_url(person)}alta/",
                                              add_data(child, household, **changes))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "Revise los datos: no se ha guardado nada todavía" in html
    assert not HouseholdMember.objects.filter(person=child).exists()


def test_a_person_living_in_another_household_is_told_to_end_that_first(
    client_for, social_worker, person, household, child,
):
    HouseholdMemberFactory(person=child, relationship="child")  # lives with someone else
    html = client_for(social_worker).post(f"{composition_url(person)}alta/",
                                          add_data(child, household)).content.decode()
    assert "Esta persona figura en otra unidad de convivencia en esas fechas." in html
    assert HouseholdMember.objects.filter(person=child).count() == 1


def test_a_member_already_living_there_is_not_added_twice(client_for, social_worker, person, household, child):
    HouseholdMemberFactory(household=household, person=child, relationship="child")
    household.refresh_from_db()
    html = client_for(social_worker).post(f"{composition_url(person)}alta/",
                                          add_data(child, household)).content.decode()
    assert "Esta persona ya figura en esta unidad de convivencia en esas fechas." in html
    assert HouseholdMember.objects.filter(person=child).count() == 1


# --- Ending a membership -------------------------------------------------------------------------------------


def test_ending_a_membership_keeps_its_history(client_for, social_worker, person, household, child):
    member = HouseholdMemberFactory(household=household, person=child, relationship="child",
                                    start_date=today() - dt.timedelta(days=200))
    client = client_for(social_worker)
    response = client.post(f"{composition_url(person)}baja/", end_data(member, household))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.end_date == today() - dt.timedelta(days=2)  # ended, not deleted
    assert HouseholdMember.objects.filter(household=household).count() == 2

    page = text(client.get(composition_url(person)).content.decode())
    assert "Hay 0 menores en el hogar." in page
    assert re.search(r"Personas que convivieron antes .*Hugo Marín \w+ Hijo/a", page)
    record = get_record(client, person)
    assert "Hay 0 menores en el hogar." in record and "Hugo Marín" not in record


@pytest.mark.parametrize("end_date,message", [
    ("FUTURE", "La fecha no puede ser posterior a hoy."),
    ("BEFORE_START", "La fecha de baja debe ser posterior a la de alta."),
    ("", "Indique la fecha de baja."),
])
def test_a_bad_end_date_is_refused(end_date, message, client_for, social_worker, person, household, child):
    member = HouseholdMemberFactory(household=household, person=child, relationship="child",
                                    start_date=today() - dt.timedelta(days=20))
    end_date = {"FUTURE": typed(today() + dt.timedelta(days=1)),
                "BEFORE_START": past(25)}.get(end_date, end_date)
    html = client_for(social_worker).post(f"{composition_url(person)}baja/",
                                          end_data(member, household, end_date=end_date)).content.decode()
    assert message in html
    member.refresh_from_db()
    assert member.end_date is None


def test_a_member_of_another_household_cannot_be_ended(client_for, social_worker, person, household):
    elsewhere = HouseholdMemberFactory()
    enrol(elsewhere.person, person.enrolments.first().organisation)
    html = client_for(social_worker).post(f"{composition_url(person)}baja/",
                                          end_data(elsewhere, household)).content.decode()
    assert "Escoja una opción válida" in html
    elsewhere.refresh_from_db()
    assert elsewhere.end_date is None


# --- The economy ---------------------------------------------------------------------------------------------


def test_the_economy_page_lists_the_13_items_and_the_working_age_members(
    client_for, social_worker, person, household, child, django_assert_max_num_queries,
):
    HouseholdMemberFactory(household=household, person=child, relationship="child")
    grandmother = HouseholdMemberFactory(household=household, relationship="parent",
                                         person=PersonFactory(first_name="Rosa", birth_date=years_ago(70)))
    client = client_for(social_worker)
    client.get(economy_url(person))
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(economy_url(person))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('name="deprivation_items"') == 13
    for label in ("Capacidad para afrontar gastos imprevistos", "Mantener la vivienda a temperatura adecuada",
                  "Conexión a internet para uso personal", "Actividades de ocio regulares"):
        assert label in html
    assert "<legend>Carencias materiales y sociales</legend>" in html
    assert "<legend>Del hogar</legend>" in html
    assert "<legend>De cada persona del hogar de 16 años o más</legend>" in html
    assert '<label for="id_deprivation_items_0">Capacidad para afrontar gastos imprevistos</label>' in html
    # months worked: only members aged 18 to 64 (Lucía), not the child nor the grandmother
    assert html.count('name="meses_') == 1
    assert "Lucía Marín Sáez (38 años)" in html
    assert grandmother.person.first_name not in text(html.split("Meses trabajados")[1])


def test_the_social_worker_records_the_economy(client_for, social_worker, person, household, partner):
    partner_row = HouseholdMemberFactory(household=household, person=partner, relationship="partner")
    lucia_row = HouseholdMember.objects.get(person=person)
    client = client_for(social_worker)
    response = client.post(economy_url(person), economy_data(
        household, deprivation_items=["H1", "H5", "P1"],
        **{f"meses_{lucia_row.pk}": "3", f"meses_{partner_row.pk}": ""}))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == f"/espacio/personas/{person.pk}/#cat-situacion_economica-social"
    household.refresh_from_db()
    assert (household.monthly_income, household.monthly_expenses, household.housing_tenure, household.version) == (
        Decimal("950.50"), Decimal("400.00"), "rented", 2)
    assert household.economy_recorded_on == today() - dt.timedelta(days=1)
    assert sorted(household.deprivation_items.values_list("code", flat=True)) == ["H1", "H5", "P1"]
    lucia_row.refresh_from_db()
    partner_row.refresh_from_db()
    assert (lucia_row.months_worked_last_year, partner_row.months_worked_last_year) == (3, None)

    record = get_record(client, person)
    assert '<data value="950.50">950,50 €</data>' in record
    assert "Capacidad para afrontar gastos imprevistos" in record
    # the form shows the values saved, with a decimal comma
    form = client.get(economy_url(person)).content.decode()
    assert 'value="950,50"' in form
    assert re.search(r'value="H5"[^>]*checked', form) and not re.search(r'value="H2"[^>]*checked', form)


@pytest.mark.parametrize("changes,message", [
    ({"monthly_income": "-5"}, "Asegúrese de que este valor es mayor o igual a 0."),
    ({"monthly_income": "novecientos"}, "Escriba una cantidad en euros, por ejemplo 950,50."),
    ({"economy_recorded_on": "FUTURE"}, "La fecha no puede ser posterior a hoy."),
    ({"MONTHS": "13"}, "Asegúrese de que este valor es menor o igual a 12."),
    ({"housing_tenure": "castillo"}, "Escoja una opción válida"),
    ({"deprivation_items": ["H9"]}, "Escoja solo carencias de la lista."),
])
def test_bad_economy_data_get_clear_spanish_errors(changes, message, client_for, social_worker, person, household):
    lucia_row = HouseholdMember.objects.get(person=person)
    if "MONTHS" in changes:
        changes = {f"meses_{lucia_row.pk}": changes["MONTHS"]}
    if changes.get("economy_recorded_on") == "FUTURE":
        changes = {"economy_recorded_on": typed(today() + dt.timedelta(days=2))}
    response = client_for(social_worker).post(economy_url(person), economy_data(household, **changes))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'aria-invalid="true"' in html
    household.refresh_from_db()
    assert (household.monthly_income, household.version) == (None, 1)


def test_a_person_without_household_is_sent_to_create_it_from_the_economy_page(client_for, social_worker, person):
    html = client_for(social_worker).get(economy_url(person)).content.decode()
    assert "no figura hoy en ninguna unidad de convivencia: regístrela primero." in html
    assert f'href="{composition_url(person)}"' in html


# --- Optimistic locking ---------------------------------------------------------------------------------------


def test_a_stale_economy_form_is_told_and_loses_nothing(client_for, social_worker, social_services_centre, person,
                                                        household):
    colleague = UserFactory(first_name="Berta", last_name="Compañera")
    MembershipFactory(user=colleague, organisation=social_services_centre, role=Role.SOCIAL_WORKER)
    # Both open the form at version 1; the colleague saves first.
    services.economy_update(viewer=viewer_of(colleague), person_id=person.pk, household_id=household.pk, version=1,
                            data={"monthly_income": Decimal("800.00")}, deprivation_codes=["H2"], months={})
    client = client_for(social_worker)
    response = client.post(economy_url(person), economy_data(household, version=1, monthly_income="1234,56",
                                                             deprivation_items=["H7"]))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha guardado cambios en esta unidad de convivencia mientras usted la editaba." in html
    assert 'value="1234,56"' in html  # her input is kept in the form
    assert "800,00 €" in html and "1234,56 €" in html  # what she typed beside what is saved now
    assert "Permitirse una semana de vacaciones fuera de casa al año" in html
    assert 'name="version" value="2"' in html  # saving again overwrites knowingly
    household.refresh_from_db()
    assert (household.monthly_income, household.version) == (Decimal("800.00"), 2)
    assert list(household.deprivation_items.values_list("code", flat=True)) == ["H2"]

    again = client.post(economy_url(person), economy_data(household, version=2, monthly_income="1234,56",
                                                          deprivation_items=["H7"]))
    assert again.status_code == 302
    household.refresh_from_db()
    assert (household.monthly_income, household.version) == (Decimal("1234.56"), 3)
    assert list(household.deprivation_items.values_list("code", flat=True)) == ["H7"]


def test_a_stale_member_form_is_told_and_keeps_the_input(client_for, social_worker, person, household, child,
                                                         partner):
    # A colleague added the partner after Ana opened the page (version 1 → 2).
    services.member_add(viewer=viewer_of(social_worker), person_id=person.pk, household_id=household.pk,
                        version=1, member_person_id=partner.pk, relationship="partner", start_date=today())
    client = client_for(social_worker)
    response = client.post(f"{composition_url(person)}alta/", add_data(child, household, version=1))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha guardado cambios en esta unidad de convivencia" in html
    assert f'value="{child.document_number}"' in html  # her input is kept
    assert "Tomás Gil" in html  # and the page shows the household as it is now
    assert 'name="alta-version" value="2"' in html
    assert not HouseholdMember.objects.filter(person=child).exists()
    assert client.post(f"{composition_url(person)}alta/", add_data(child, household, version=2)).status_code == 302
    assert HouseholdMember.objects.filter(person=child, household=household).exists()


def test_a_stale_end_form_is_told_and_ends_nothing(client_for, social_worker, person, household, child):
    member = HouseholdMemberFactory(household=household, person=child, relationship="child")
    Household.objects.filter(pk=household.pk).update(version=5)
    response = client_for(social_worker).post(f"{composition_url(person)}baja/", end_data(member, household,
                                                                                         version=4))
    assert response.status_code == 409
    assert 'name="baja-version" value="5"' in response.content.decode()
    member.refresh_from_db()
    assert member.end_date is None


def test_ending_a_member_a_colleague_already_ended_is_told_not_refused(client_for, social_worker, person,
                                                                       household, child):
    member = HouseholdMemberFactory(household=household, person=child, relationship="child")
    household.refresh_from_db()
    services.member_end(viewer=viewer_of(social_worker), person_id=person.pk, household_id=household.pk,
                        version=1, member_id=member.pk, end_date=today() - dt.timedelta(days=5))
    response = client_for(social_worker).post(f"{composition_url(person)}baja/",
                                              end_data(member, household, version=1))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha guardado cambios en esta unidad de convivencia" in html
    assert "Escoja una opción válida" not in html
    member.refresh_from_db()
    assert member.end_date == today() - dt.timedelta(days=5)


# --- Change history and alert re-evaluation ------------------------------------------------------------------


def test_every_change_is_in_the_change_history(client_for, social_worker, person, household, child):
    client = client_for(social_worker)
    assert client.post(f"{composition_url(person)}alta/", add_data(child, household)).status_code == 302
    household.refresh_from_db()
    assert client.post(economy_url(person), economy_data(household, deprivation_items=["H3"])).status_code == 302
    member = HouseholdMember.objects.get(person=child)
    household.refresh_from_db()
    assert client.post(f"{composition_url(person)}baja/", end_data(member, household)).status_code == 302

    member_events = LogEntry.objects.get_for_object(member).order_by("timestamp")
    assert [e.action for e in member_events] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert all(e.actor_id == social_worker.pk for e in member_events)
    assert member_events[0].additional_data["category"] == "unidad_convivencia"
    assert "end_date" in member_events[1].changes_dict
    economy = LogEntry.objects.get_for_object(household).order_by("timestamp")
    assert any("monthly_income" in (e.changes_dict or {}) for e in economy)
    assert any("deprivation_items" in (e.changes_dict or {}) for e in economy)

    history = text(client.get(f"/espacio/personas/{person.pk}/historial/").content.decode())
    assert "Miembro de la unidad de convivencia" in history
    assert "Ingresos mensuales del hogar (€)" in history and "950.50" in history
    assert "Carencias materiales y sociales" in history


def test_an_alert_evaluation_is_queued_for_every_member(client_for, social_worker, person, household, child,
                                                        partner, published):
    HouseholdMemberFactory(household=household, person=partner, relationship="partner")
    client = client_for(social_worker)
    with published as sent:
        assert client.post(f"{composition_url(person)}alta/", add_data(child, household)).status_code == 302
    assert sorted(sent) == sorted([person.pk, partner.pk, child.pk])

    household.refresh_from_db()
    with published as sent:
        assert client.post(economy_url(person), economy_data(household)).status_code == 302
    assert sorted(sent) == sorted([person.pk, partner.pk, child.pk])

    household.refresh_from_db()
    member = HouseholdMember.objects.get(person=partner)
    with published as sent:
        assert client.post(f"{composition_url(person)}baja/", end_data(member, household)).status_code == 302
    assert sorted(sent) == sorted([person.pk, partner.pk, child.pk])  # who left is re-evaluated too


def test_a_refused_save_queues_nothing(client_for, social_worker, person, household, published):
    with published as sent:
        client_for(social_worker).post(economy_url(person), economy_data(household, monthly_income="-1"))
    assert sent == []


def test_creating_a_household_queues_the_person(client_for, social_worker, person, published):
    with published as sent:
        client_for(social_worker).post(f"{composition_url(person)}nueva/", {
            "relationship": "holder", "start_date": past(1), "address_line": ""})
    assert sent == [person.pk]


# --- Who may edit ---------------------------------------------------------------------------------------------


def _all_requests(person, household, child):
    member = HouseholdMember.objects.get(person=person)
    return [
        ("get", composition_url(person), None),
        ("get", economy_url(person), None),
        ("post", f"{composition_url(person)}nueva/", {"relationship": "holder", "start_date": past(1)}),
        ("post", f"{composition_url(person)}alta/", add_data(child, household)),
        ("post", f"{composition_url(person)}baja/", end_data(member, household)),
        ("post", economy_url(person), economy_data(household)),
    ]


def test_the_employment_service_gets_404_even_when_it_sees_the_household(
    client_for, employment_counsellor, social_worker, social_services_centre, person, household, child,
):
    ConsentFactory(person=person, grantee_services=["employment"], purposes=[Purpose.FOLLOW_UP.value],
                   recorded_by=social_worker, recorded_by_org=social_services_centre)
    enrol(child, person.enrolments.get(organisation__kind="employment").organisation)
    client = client_for(employment_counsellor)
    record = get_record(client, person)
    assert "Convive desde" in record  # it reads the composition with the person's consent…
    assert "Editar la unidad de convivencia" not in record  # …but does not record it
    for method, url, data in _all_requests(person, household, child):
        assert getattr(client, method)(url, data or {}).status_code == 404, url
    household.refresh_from_db()
    assert (household.version, household.monthly_income) == (1, None)
    assert not HouseholdMember.objects.filter(person=child).exists()


@pytest.mark.parametrize("role", [Role.NGO_TECHNICIAN, Role.COORDINATOR, Role.EVALUATOR])
def test_ngo_and_roles_that_do_not_edit_get_404(role, client_for, person, household, child, ngo,
                                                 social_services_centre):
    user = UserFactory()
    organisation = ngo if role == Role.NGO_TECHNICIAN else social_services_centre
    MembershipFactory(user=user, organisation=organisation, role=role)
    enrol(person, organisation)
    client = client_for(user)
    for method, url, data in _all_requests(person, household, child):
        assert getattr(client, method)(url, data or {}).status_code == 404, url
    assert not HouseholdMember.objects.filter(person=child).exists()


def test_a_person_outside_the_caseload_is_a_404(client_for, social_worker):
    stranger = PersonFactory()
    HouseholdMemberFactory(person=stranger)
    client = client_for(social_worker)
    assert client.get(composition_url(stranger)).status_code == 404
    assert client.get(economy_url(stranger)).status_code == 404


def test_the_service_layer_refuses_another_service(employment_counsellor, person, household):
    with pytest.raises(PermissionDenied):
        services.economy_update(viewer=viewer_of(employment_counsellor), person_id=person.pk,
                                household_id=household.pk, version=1, data={"monthly_income": Decimal(1)},
                                deprivation_codes=[], months={})


def test_the_service_layer_refuses_a_household_the_person_is_not_in(social_worker, person, household):
    other = HouseholdFactory()
    HouseholdMemberFactory(household=other)
    with pytest.raises(PermissionDenied):
        services.economy_update(viewer=viewer_of(social_worker), person_id=person.pk, household_id=other.pk,
                                version=1, data={"monthly_income": Decimal(1)}, deprivation_codes=[], months={})


# --- Accessible forms, links and queries -------------------------------------------------------------------


def test_the_composition_page_has_labelled_fieldsets_and_associated_errors(
    client_for, social_worker, person, household, child,
):
    client = client_for(social_worker)
    html = client.get(composition_url(person)).content.decode()
    for field in ("alta-document_number", "alta-birth_date", "alta-relationship", "alta-start_date",
                  "baja-member", "baja-end_date"):
        assert f'<label for="id_{field}"' in html, field
    assert html.count("<fieldset") >= 3 and "<legend>Quién es</legend>" in html
    assert '<caption class="visually-hidden">Miembros de la unidad de convivencia</caption>' in html

    error_page = client.post(f"{composition_url(person)}alta/",
                             add_data(child, household, start_date="ayer")).content.decode()
    assert re.search(r'<input[^>]*name="alta-start_date"[^>]*aria-invalid="true"', error_page)
    assert re.search(r'<input[^>]*name="alta-start_date"[^>]*aria-describedby="[^"]*id_alta-start_date_error',
                     error_page)
    assert '<p class="error" id="id_alta-start_date_error">' in error_page
    assert '<a href="#id_alta-start_date">' in error_page  # the summary links to the field


def test_only_social_services_see_the_links_on_the_record(client_for, social_worker, coordinator, person, household):
    record = get_record(client_for(social_worker), person)
    household_part = record.split('id="hogar-title"')[1].split('id="prestaciones-title"')[0]
    assert f'href="{composition_url(person)}"' in household_part
    assert f'href="{economy_url(person)}"' in household_part
    assert "Editar la unidad de convivencia" not in get_record(client_for(coordinator), person)


@pytest.mark.parametrize("url", [composition_url, economy_url], ids=["composition", "economy"])
def test_both_pages_cost_the_same_queries_for_a_small_and_a_large_household(
    url, client_for, social_worker, person, household, social_services_centre, django_assert_max_num_queries,
):
    client = client_for(social_worker)
    client.get(url(person))
    with django_assert_max_num_queries(PAGE_QUERIES), CaptureQueriesContext(connection) as small:
        assert client.get(url(person)).status_code == 200
    for age in (40, 16, 9, 3, 70, 25):
        other = PersonFactory(birth_date=years_ago(age))
        enrol(other, social_services_centre)
        HouseholdMemberFactory(household=household, person=other, relationship="other_relative",
                               months_worked_last_year=6 if 18 <= age <= 64 else None)
    HouseholdMemberFactory(household=household, relationship="child", end_date=today() - dt.timedelta(days=3))
    household.deprivation_items.set(["H1", "H2", "P3"])
    with django_assert_max_num_queries(PAGE_QUERIES), CaptureQueriesContext(connection) as large:
        response = client.get(url(person))
    assert response.status_code == 200
    assert len(large) == len(small)


def test_the_economy_page_shows_the_households_arope_indicators_from_the_saved_data(
    client_for, social_worker, person, household, child
):
    """A parent and a child of 7 (1.3 consumption units) living on 500 € a month: 6,000 € a year,
    4,615 € per unit, below any INE threshold since 2013, so at risk of poverty, AROPE, and a
    minor in an AROPE household is a child-poverty risk. Seven deprivation items are severe."""
    from ris.reference.models import DeprivationItem

    HouseholdMemberFactory(household=household, person=child, relationship="child")
    household.monthly_income = Decimal("500.00")
    household.save()
    household.deprivation_items.set(DeprivationItem.objects.order_by("code")[:7])
    page = text(client_for(social_worker).get(economy_url(person)).content.decode())
    assert "Unidades de consumo (escala OCDE modificada) 1,3" in page
    assert "Ingresos anuales por unidad de consumo 4615,38 €" in page
    assert "En riesgo de pobreza Sí" in page
    assert "Carencia material y social severa (7 de 13) Sí (7)" in page
    assert "En riesgo de pobreza o exclusión social (AROPE) Sí" in page
    assert "Riesgo de pobreza infantil Sí: hay menores en un hogar AROPE" in page

    household.monthly_income = Decimal("4000.00")
    household.save()
    household.deprivation_items.clear()
    page = text(client_for(social_worker).get(economy_url(person)).content.decode())
    assert "En riesgo de pobreza No" in page
    assert "Riesgo de pobreza infantil No" in page
