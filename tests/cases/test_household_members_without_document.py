"""Adding to a household a member with no DNI or NIE who is not in RIS yet.

On the composition page (/espacio/personas/<id>/unidad-convivencia/) a social worker adds a
baby, a minor without a document of their own, an undocumented adult or a passport holder:
the basic sheet registration asks for (with registration's rules and messages), the reason
for having no document or the passport number, the relationship and the start date. Before
creating, the page does what registration does: a passport is looked for in the whole
system (in the caseload, that person is offered instead; elsewhere with the same birth date,
only "ya consta" and the link request, logged; with another, the neutral refusal, logged),
then similar names born the same day are looked for in the caseload only and shown until the
user confirms it is none of them or adds the one it is. Outside the caseload nobody is shown
or hinted at. The new person is registered through registration's service (enrolment,
reference professional, change history) and added in the same transaction at the household's
version: a stale form is refused with the input kept and nothing created. Only the owner
service, for a person it attends, reaches the page; the page costs a constant number of
queries.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import household as services
from cases.models import Household, HouseholdMember, Person, ReferenceProfessional
from consent.purposes import Purpose
from ris.accounts.models import Role, ServiceKind
from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends
from sharing.models import DisclosureLogEntry
from tests.factories import (
    ConsentFactory,
    HouseholdFactory,
    HouseholdMemberFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
    enrol,
)

pytestmark = pytest.mark.django_db

#: The composition page's budget, as in tests/cases/test_household_editing.py.
PAGE_QUERIES = 25
#: A registration from the page: the checks, the person, the enrolment, the membership, the page.
REGISTER_QUERIES = 70
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
REFUSED = ("No se puede usar este número de documento con esta fecha de nacimiento. Compruebe los dos "
           "datos en el documento de la persona.")
NOTHING_SAVED = "Revise los datos: no se ha guardado nada todavía"
SIMILAR = "¿Es alguna de estas personas?"


def today() -> dt.date:
    return timezone.localdate()


def years_ago(years: int, days: int = 10) -> dt.date:
    now = today()
    return now.replace(year=now.year - years) - dt.timedelta(days=days)


def typed(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def composition_url(person) -> str:
    return f"/espacio/personas/{person.pk}/unidad-convivencia/"


def register_url(person) -> str:
    return f"{composition_url(person)}alta-sin-documento/"


BABY_BORN = today() - dt.timedelta(days=75)


def register_data(household, *, version=None, **changes) -> dict:
    """Nerea, a baby born 75 days ago with no document of her own, the holder's daughter."""
    data = {
        "household": str(household.pk), "version": str(version or household.version),
        "first_name": "Nerea", "last_name_1": "Marín", "last_name_2": "Sáez",
        "birth_date": typed(BABY_BORN), "sex": "F", "nationality": "ES",
        "document_type": "none", "document_number": "", "no_document_reason": "minor",
        "relationship": "child", "start_date": typed(BABY_BORN),
    }
    data.update(changes)
    return {f"sin-{name}": value for name, value in data.items()}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def register_section(html: str) -> str:
    """The part of the page about the member without DNI/NIE (with the CSRF token taken out)."""
    part = html.split('<section aria-labelledby="sin-title"')[1].split("</section>")[0]
    return CSRF.sub("", part)


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín", last_name_2="Sáez", birth_date=years_ago(31))
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


@pytest.fixture
def household(person):
    """Lucía lives in a household as its holder since a year ago."""
    household = HouseholdFactory(address_line="Calle Mayor 3")
    HouseholdMemberFactory(household=household, person=person)
    return household


def similar_in_caseload(organisation, **fields) -> Person:
    """Someone the organisation attends, named like Nerea and born the same day."""
    values = {"first_name": "Nerea", "last_name_1": "Marín", "last_name_2": "Sáez", "birth_date": BABY_BORN,
              "document_type": "none", "document_number": "", "no_document_reason": "minor"}
    values.update(fields)
    similar = PersonFactory(**values)
    enrol(similar, organisation)
    return similar


def new_persons():
    return Person.objects.filter(first_name="Nerea")


# --- A baby and a passport holder -------------------------------------------------------------------------


def test_a_baby_without_document_is_registered_and_added_to_the_household(
    client_for, social_worker, social_services_centre, person, household, published,
):
    client = client_for(social_worker)
    page = client.get(composition_url(person)).content.decode()
    assert "Añadir a un miembro sin DNI/NIE" in page
    assert f'action="{register_url(person)}"' in page

    with published as sent:
        response = client.post(register_url(person), register_data(household))
    assert response.status_code == 302
    assert response.url == f"{composition_url(person)}#miembros-title"
    baby = new_persons().get()
    assert (baby.last_name_1, baby.last_name_2, baby.birth_date, baby.sex) == ("Marín", "Sáez", BABY_BORN, "F")
    assert (baby.document_type, baby.document_number, baby.no_document_reason) == ("none", "", "minor")
    assert (baby.address_line, baby.municipality_id) == (household.address_line, household.municipality_id)
    assert baby.address_line == "Calle Mayor 3"  # she lives at the household's address
    # registered as registration registers: the organisation attends her, the worker is her reference
    assert organisation_attends(social_services_centre.pk, baby.pk)
    assert ReferenceProfessional.objects.get(person=baby).professional_id == social_worker.pk
    member = HouseholdMember.objects.get(person=baby)
    assert (member.household_id, member.relationship, member.start_date, member.end_date) == (
        household.pk, "child", BABY_BORN, None)
    household.refresh_from_db()
    assert household.version == 2
    # every member is re-evaluated once the transaction commits (the new person by registration's own
    # service and enrolment too, as at registration)
    assert set(sent) == {person.pk, baby.pk} and sent.count(person.pk) == 1

    page = text(client.get(composition_url(person)).content.decode())
    assert "Persona dada de alta: Nerea Marín Sáez convive ahora en la unidad de convivencia" in page
    assert "Hay 1 menor en el hogar." in page and "Nerea Marín Sáez menor" in page


def test_the_new_person_and_the_membership_are_in_the_change_history(
    client_for, social_worker, person, household,
):
    assert client_for(social_worker).post(register_url(person), register_data(household)).status_code == 302
    baby = new_persons().get()
    created = LogEntry.objects.get_for_object(baby).get()
    assert (created.action, created.actor_id) == (LogEntry.Action.CREATE, social_worker.pk)
    member_event = LogEntry.objects.get_for_object(HouseholdMember.objects.get(person=baby)).get()
    assert (member_event.action, member_event.actor_id) == (LogEntry.Action.CREATE, social_worker.pk)
    assert member_event.additional_data["category"] == "unidad_convivencia"


def test_a_passport_holder_is_registered_with_the_passport_normalised(client_for, social_worker, person,
                                                                     household):
    response = client_for(social_worker).post(register_url(person), register_data(
        household, first_name="Nerea", last_name_1="Benali", last_name_2="", birth_date=typed(years_ago(34)),
        nationality="ma", document_type="passport", document_number=" ab-123 456 ", no_document_reason="",
        relationship="partner", start_date=typed(today() - dt.timedelta(days=20)),
    ))
    assert response.status_code == 302
    partner = new_persons().get()
    assert (partner.document_type, partner.document_number, partner.no_document_reason) == (
        "passport", "AB123456", "")
    assert partner.nationality == "MA"
    member = HouseholdMember.objects.get(person=partner)
    assert (member.relationship, member.start_date) == ("partner", today() - dt.timedelta(days=20))


# --- Malformed input: clear Spanish errors, nothing created, nothing lost --------------------------------


@pytest.mark.parametrize("changes,field,message", [
    ({"birth_date": "TOMORROW", "start_date": typed(today())}, "birth_date",
     "La fecha de nacimiento no puede ser posterior a hoy."),
    ({"no_document_reason": ""}, "no_document_reason", "Indique por qué la persona no tiene documento."),
    ({"birth_date": "31/02/2024"}, "birth_date", "dd/mm/aaaa"),
    ({"first_name": ""}, "first_name", "Indique el nombre."),
    ({"sex": ""}, "sex", "Indique el sexo."),
    ({"nationality": "E1"}, "nationality", "Escriba el código de dos letras del país"),
    ({"document_type": "passport", "document_number": "AB1"}, "document_number",
     "El número de pasaporte debe tener entre 5 y 20 letras o cifras."),
    ({"document_number": "12345678Z"}, "document_number",
     "Si la persona no tiene documento, deje el número en blanco."),
    ({"document_type": "dni", "document_number": "12345678Z"}, "document_type",
     "Si tiene DNI o NIE, añádala con el formulario anterior"),
    ({"start_date": "TOMORROW"}, "start_date", "La fecha no puede ser posterior a hoy."),
    ({"start_date": typed(BABY_BORN - dt.timedelta(days=1))}, "start_date",
     "La fecha desde la que convive no puede ser anterior a su fecha de nacimiento."),
    ({"relationship": ""}, "relationship", "Indique el parentesco con la persona titular."),
    ({"relationship": "holder"}, "relationship", "Esta unidad de convivencia ya tiene una persona titular."),
])
def test_malformed_input_gets_clear_spanish_errors_and_creates_nothing(
    changes, field, message, client_for, social_worker, person, household, published,
):
    tomorrow = typed(today() + dt.timedelta(days=1))
    changes = {k: tomorrow if v == "TOMORROW" else v for k, v in changes.items()}
    with published as sent:
        response = client_for(social_worker).post(register_url(person), register_data(household, **changes))
    html = response.content.decode()
    assert response.status_code == 200
    assert NOTHING_SAVED in html
    # the message sits by its field and the summary links to it
    assert re.search(rf'<p class="error" id="id_sin-{field}_error"[^>]*>[^<]*{re.escape(message)}', html), html
    assert f'<a href="#id_sin-{field}">' in html
    if field != "first_name":
        assert 'value="Nerea"' in html  # what was typed is kept
    assert 'value="Sáez"' in html
    assert not new_persons().exists()
    assert HouseholdMember.objects.filter(household=household).count() == 1
    household.refresh_from_db()
    assert household.version == 1
    assert sent == []


def test_the_service_creates_nothing_when_the_membership_is_refused(social_worker, person, household):
    """The membership checks run before registering: a refused member leaves no person behind."""
    data = {"first_name": "Nerea", "last_name_1": "Marín", "last_name_2": "", "birth_date": BABY_BORN,
            "sex": "F", "nationality": "ES", "document_type": "none", "document_number": "",
            "no_document_reason": "minor"}
    for relationship, start_date in (("holder", BABY_BORN), ("child", BABY_BORN - dt.timedelta(days=3))):
        with pytest.raises(ValidationError):
            services.member_register(viewer=viewer_of(social_worker), person_id=person.pk,
                                     household_id=household.pk, version=1, person_data=data,
                                     relationship=relationship, start_date=start_date)
    assert not new_persons().exists()
    member = services.member_register(viewer=viewer_of(social_worker), person_id=person.pk,
                                      household_id=household.pk, version=1, person_data=data,
                                      relationship="child", start_date=BABY_BORN)
    assert member.person.first_name == "Nerea" and member.household_id == household.pk


# --- Likely duplicates in the caseload ------------------------------------------------------------------------


def test_a_likely_duplicate_in_the_caseload_is_shown_and_nothing_is_created_until_confirmed(
    client_for, social_worker, social_services_centre, person, household,
):
    similar = similar_in_caseload(social_services_centre, first_name="Nerea", last_name_1="Marin",
                                  last_name_2="Saez")
    client = client_for(social_worker)
    data = register_data(household)
    shown = client.post(register_url(person), data)
    html = shown.content.decode()
    assert shown.status_code == 200
    assert SIMILAR in html
    assert f'href="/espacio/personas/{similar.pk}/"' in html
    assert 'name="sin-not_a_duplicate"' in html
    assert f'name="sin-existing" value="{similar.pk}"' in html
    assert f'name="sin-duplicates_seen" value="{similar.pk}"' in html
    assert 'value="Nerea"' in html and 'value="Sáez"' in html  # nothing typed is lost
    assert new_persons().count() == 1

    not_ticked = client.post(register_url(person), {**data, "sin-duplicates_seen": str(similar.pk),
                                                    "sin-confirm_new": "1"})
    assert "Marque la casilla para confirmar que no es ninguna de estas personas." in not_ticked.content.decode()
    assert new_persons().count() == 1

    created = client.post(register_url(person), {**data, "sin-duplicates_seen": str(similar.pk),
                                                "sin-confirm_new": "1", "sin-not_a_duplicate": "on"})
    assert created.status_code == 302
    assert new_persons().count() == 2
    baby = new_persons().exclude(pk=similar.pk).get()
    assert HouseholdMember.objects.filter(person=baby, household=household).exists()
    assert not HouseholdMember.objects.filter(person=similar).exists()


def test_a_confirmation_does_not_cover_similar_persons_that_were_not_shown(
    client_for, social_worker, social_services_centre, person, household,
):
    shown_before = similar_in_caseload(social_services_centre)
    appeared_since = similar_in_caseload(social_services_centre, last_name_2="Saenz")
    response = client_for(social_worker).post(register_url(person), {
        **register_data(household), "sin-duplicates_seen": str(shown_before.pk), "sin-confirm_new": "1",
        "sin-not_a_duplicate": "on"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'/espacio/personas/{appeared_since.pk}/' in html
    assert new_persons().count() == 2


def test_the_duplicate_the_user_recognises_is_added_instead(
    client_for, social_worker, social_services_centre, person, household, published,
):
    similar = similar_in_caseload(social_services_centre)
    with published as sent:
        response = client_for(social_worker).post(register_url(person), {
            **register_data(household), "sin-existing": str(similar.pk)})
    assert response.status_code == 302
    assert new_persons().get() == similar  # nobody new
    member = HouseholdMember.objects.get(person=similar)
    assert (member.household_id, member.relationship, member.start_date) == (household.pk, "child", BABY_BORN)
    assert sorted(sent) == sorted([person.pk, similar.pk])


def test_a_passport_the_organisation_already_attends_offers_that_person(
    client_for, social_worker, social_services_centre, person, household,
):
    ours = PersonFactory(first_name="Yasmina", last_name_1="Benali", document_type="passport",
                         document_number="ZX998877", birth_date=years_ago(33))
    enrol(ours, social_services_centre)
    client = client_for(social_worker)
    data = register_data(household, document_type="passport", document_number="zx998877",
                         no_document_reason="", birth_date=typed(years_ago(34)), relationship="partner",
                         start_date=typed(today() - dt.timedelta(days=9)))
    html = client.post(register_url(person), data).content.decode()
    assert "Su organización ya atiende a esta persona." in html
    assert f'href="/espacio/personas/{ours.pk}/"' in html and "Yasmina Benali" in html
    assert 'name="sin-not_a_duplicate"' not in html  # one document, one record: no new one
    assert not new_persons().exists()
    assert not DisclosureLogEntry.objects.filter(person=ours).exists()  # her own caseload

    response = client.post(register_url(person), {**data, "sin-existing": str(ours.pk)})
    assert response.status_code == 302
    assert HouseholdMember.objects.get(person=ours).relationship == "partner"
    assert not new_persons().exists()


# --- Outside the caseload nothing is told -------------------------------------------------------------------


def test_someone_outside_the_caseload_with_the_same_name_and_birth_date_is_not_revealed(
    client_for, social_worker, employment_office, person, household,
):
    # The same page, the same input, first with nobody like Nerea in the system…
    client = client_for(social_worker)
    data = register_data(household, document_type="passport", document_number="QW1234567",
                         no_document_reason="", sex="")  # an error after the name: the page is shown again
    alone = client.post(register_url(person), data).content.decode()

    # …then with a Nerea Marín Sáez born the same day, attended by another organisation.
    theirs = PersonFactory(first_name="Nerea", last_name_1="Marín", last_name_2="Sáez", birth_date=BABY_BORN,
                           document_type="passport", document_number="SECRET9876", address_line="Calle Oculta 1")
    enrol(theirs, employment_office)
    with_theirs = client.post(register_url(person), data).content.decode()
    assert register_section(with_theirs) == register_section(alone)

    # A valid form goes straight on: the same answer as when nobody is like her, a new person.
    response = client.post(register_url(person), register_data(household))
    assert (response.status_code, response.url) == (302, f"{composition_url(person)}#miembros-title")
    baby = new_persons().exclude(pk=theirs.pk).get()
    assert HouseholdMember.objects.get(household=household, person=baby)
    assert not HouseholdMember.objects.filter(person=theirs).exists()
    page = client.get(composition_url(person)).content.decode()
    for secret in ("SECRET9876", "Calle Oculta", f"/personas/{theirs.pk}/", SIMILAR):
        assert secret not in page, secret
    assert not DisclosureLogEntry.objects.filter(person=theirs).exists()


def test_the_similar_names_panel_never_lists_anyone_outside_the_caseload(
    client_for, social_worker, social_services_centre, employment_office, person, household,
):
    ours = similar_in_caseload(social_services_centre)
    theirs = similar_in_caseload(employment_office, last_name_2="Sáenz", first_name="Nerea")
    html = client_for(social_worker).post(register_url(person), register_data(household)).content.decode()
    assert f"/espacio/personas/{ours.pk}/" in html
    assert f"/personas/{theirs.pk}/" not in html and f'value="{theirs.pk}"' not in html
    assert "Sáenz" not in html
    assert f'name="sin-duplicates_seen" value="{ours.pk}"' in html


def test_choosing_a_person_outside_the_caseload_is_answered_as_for_an_id_that_does_not_exist(
    client_for, social_worker, social_services_centre, employment_office, person, household,
):
    """An attacker posts the "add this person instead" button with ids of their choosing: a person of
    another organisation named and born like the typed one, a person of the caseload who is not a
    likely duplicate, and an id nobody has all get the same page, and nobody is added."""
    theirs = similar_in_caseload(employment_office)
    ours_unlike = PersonFactory(first_name="Otilia", birth_date=years_ago(50))
    enrol(ours_unlike, social_services_centre)
    missing = max(Person.objects.values_list("pk", flat=True)) + 1000
    client = client_for(social_worker)
    pages = []
    for chosen in (theirs.pk, ours_unlike.pk, missing):
        response = client.post(register_url(person), {**register_data(household), "sin-existing": str(chosen)})
        assert response.status_code == 200
        html = response.content.decode()
        assert "La persona que escogió no coincide con los datos escritos." in html
        pages.append(register_section(html))
    assert pages[0] == pages[1] == pages[2]
    assert "Calle" not in pages[0] and "Otilia" not in pages[0]
    assert HouseholdMember.objects.filter(household=household).count() == 1
    assert new_persons().count() == 1  # theirs only: nothing created either
    household.refresh_from_db()
    assert household.version == 1

    # what is not an id at all is no choice (and breaks nothing): nobody similar in the caseload, so registered
    response = client.post(register_url(person), {**register_data(household), "sin-existing": "²",
                                                  "sin-duplicates_seen": "²,x"})
    assert response.status_code == 302
    assert HouseholdMember.objects.filter(household=household, person__first_name="Nerea").exclude(
        person=theirs).count() == 1


def test_a_passport_and_birth_date_registered_elsewhere_only_says_it_exists_and_is_logged(
    client_for, social_worker, employment_office, person, household,
):
    theirs = PersonFactory(first_name="Eustaquia", last_name_1="Valdemoro", document_type="passport",
                           document_number="PP445566", birth_date=years_ago(40), address_line="Calle Secreta 9")
    enrol(theirs, employment_office)
    data = register_data(household, document_type="passport", document_number="PP445566", no_document_reason="",
                         birth_date=typed(theirs.birth_date), relationship="other_relative",
                         start_date=typed(today() - dt.timedelta(days=3)))
    html = client_for(social_worker).post(register_url(person), data).content.decode()
    assert "Esta persona ya consta en el sistema." in html
    assert "Solicitar la vinculación mediante derivación" in html
    for secret in ("Eustaquia", "Valdemoro", "Calle Secreta", f"/personas/{theirs.pk}/", 'name="sin-existing"'):
        assert secret not in html, secret
    assert not new_persons().exists()
    assert not HouseholdMember.objects.filter(person=theirs).exists()
    line = DisclosureLogEntry.objects.get(person=theirs)
    assert (line.event, line.level, line.basis, line.user_id) == (
        "lookup", "indicator", "lookup:registration", social_worker.pk)


def test_someone_elses_passport_with_another_birth_date_is_refused_the_same_whoever_holds_it(
    client_for, social_worker, employment_office, ngo, person, household,
):
    first = PersonFactory(first_name="Eustaquia", document_type="passport", document_number="PP445566",
                          birth_date=years_ago(40))
    enrol(first, employment_office)
    second = PersonFactory(first_name="Leocadia", document_type="passport", document_number="PP778899",
                           birth_date=years_ago(60))
    enrol(second, ngo)
    client = client_for(social_worker)
    pages = []
    for holder in (first, second):
        response = client.post(register_url(person), register_data(
            household, document_type="passport", document_number=holder.document_number, no_document_reason="",
            birth_date=typed(years_ago(20)), start_date=typed(today())))
        html = response.content.decode()
        assert response.status_code == 200
        assert REFUSED in html and NOTHING_SAVED in html
        for told in ("ya consta", "registrada", holder.first_name, f"/personas/{holder.pk}/"):
            assert told not in html, told
        pages.append(register_section(html).replace(holder.document_number, "<doc>"))
    assert pages[0] == pages[1]
    assert not new_persons().exists()
    assert [(line.person_id, line.level, line.basis) for line in DisclosureLogEntry.objects.order_by("id")] == [
        (first.pk, "hidden", "lookup:registration:other_birth_date"),
        (second.pk, "hidden", "lookup:registration:other_birth_date"),
    ]


# --- A stale composition ------------------------------------------------------------------------------------


def test_a_stale_form_is_refused_keeps_the_input_and_creates_nothing(
    client_for, social_worker, social_services_centre, person, household,
):
    # A colleague added Tomás after the page was read (version 1 → 2).
    partner = PersonFactory(first_name="Tomás", last_name_1="Gil", birth_date=years_ago(33))
    enrol(partner, social_services_centre)
    services.member_add(viewer=viewer_of(social_worker), person_id=person.pk, household_id=household.pk,
                        version=1, member_person_id=partner.pk, relationship="partner", start_date=today())
    client = client_for(social_worker)
    response = client.post(register_url(person), register_data(household, version=1))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Otra persona ha guardado cambios en esta unidad de convivencia" in html
    section = register_section(html)
    for kept in ('value="Nerea"', 'value="Marín"', 'value="Sáez"', f'value="{typed(BABY_BORN)}"'):
        assert kept in section, kept
    assert re.search(r'<option value="minor" selected>', section)
    assert 'name="sin-version" value="2"' in section
    assert "Tomás Gil" in html  # the household as it is now
    assert not new_persons().exists()
    household.refresh_from_db()
    assert household.version == 2

    assert client.post(register_url(person), register_data(household, version=2)).status_code == 302
    assert HouseholdMember.objects.filter(household=household, person__first_name="Nerea").exists()


def test_the_service_refuses_a_stale_version_before_registering_anyone(social_worker, person, household):
    Household.objects.filter(pk=household.pk).update(version=3)
    data = {"first_name": "Nerea", "last_name_1": "Marín", "last_name_2": "", "birth_date": BABY_BORN,
            "sex": "F", "nationality": "ES", "document_type": "none", "document_number": "",
            "no_document_reason": "minor"}
    with pytest.raises(services.HouseholdChanged):
        services.member_register(viewer=viewer_of(social_worker), person_id=person.pk, household_id=household.pk,
                                 version=2, person_data=data, relationship="child", start_date=BABY_BORN)
    assert not new_persons().exists()


def test_choosing_the_duplicate_on_a_stale_form_adds_nobody(
    client_for, social_worker, social_services_centre, person, household,
):
    similar = similar_in_caseload(social_services_centre)
    Household.objects.filter(pk=household.pk).update(version=2)
    response = client_for(social_worker).post(register_url(person), {
        **register_data(household, version=1), "sin-existing": str(similar.pk)})
    assert response.status_code == 409
    assert not HouseholdMember.objects.filter(person=similar).exists()


# --- Who may do it ----------------------------------------------------------------------------------------------


@pytest.fixture
def other_centre_worker(db):
    """A social worker of another social services centre, which does not attend Lucía."""
    centre = OrganisationFactory(name="CEAS Valladolid Sur", kind=ServiceKind.SOCIAL)
    user = UserFactory()
    MembershipFactory(user=user, organisation=centre, role=Role.SOCIAL_WORKER)
    return user


@pytest.mark.parametrize("who", ["other_centre_worker", "employment_counsellor", "ngo_technician",
                                 "coordinator", "evaluator"])
def test_anyone_but_the_attending_social_services_gets_404_and_nothing_is_looked_up(
    who, request, client_for, social_worker, social_services_centre, person, household, ngo,
):
    if who == "employment_counsellor":  # it even reads the household, with Lucía's consent
        ConsentFactory(person=person, grantee_services=["employment"], purposes=[Purpose.FOLLOW_UP.value],
                       recorded_by=social_worker, recorded_by_org=social_services_centre)
    if who == "ngo_technician":
        enrol(person, ngo)
    client = client_for(request.getfixturevalue(who))
    for data in (register_data(household),
                 register_data(household, document_type="passport", document_number="PP445566",
                               no_document_reason="")):
        assert client.post(register_url(person), data).status_code == 404
    assert client.get(register_url(person)).status_code == 404
    assert not new_persons().exists()
    assert not DisclosureLogEntry.objects.filter(event="lookup").exists()
    household.refresh_from_db()
    assert household.version == 1


def test_the_service_refuses_another_service_and_a_person_not_attended(
    employment_counsellor, other_centre_worker, person, household,
):
    data = {"first_name": "Nerea", "last_name_1": "Marín", "last_name_2": "", "birth_date": BABY_BORN,
            "sex": "F", "nationality": "ES", "document_type": "none", "document_number": "",
            "no_document_reason": "minor"}
    for user in (employment_counsellor, other_centre_worker):
        with pytest.raises(PermissionDenied):
            services.member_register(viewer=viewer_of(user), person_id=person.pk, household_id=household.pk,
                                     version=1, person_data=data, relationship="child", start_date=BABY_BORN)
    assert not new_persons().exists()


def test_without_a_household_the_form_is_not_offered_and_a_post_is_refused_as_stale(
    client_for, social_worker, person,
):
    client = client_for(social_worker)
    page = client.get(composition_url(person)).content.decode()
    assert "Añadir a un miembro sin DNI/NIE" not in page
    fake = HouseholdFactory()
    response = client.post(register_url(person), register_data(fake))
    assert response.status_code == 409
    assert not new_persons().exists()


# --- Accessible, without JavaScript, and in a constant number of queries ------------------------------------------


def test_the_form_is_labelled_grouped_and_needs_no_javascript(client_for, social_worker, person, household):
    html = client_for(social_worker).get(composition_url(person)).content.decode()
    section = register_section(html)
    for field in ("first_name", "last_name_1", "last_name_2", "birth_date", "sex", "nationality",
                  "document_number", "no_document_reason", "relationship", "start_date"):
        assert f'<label for="id_sin-{field}"' in section, field
    assert "<legend>Datos de la persona</legend>" in section and "<legend>Documento</legend>" in section
    assert "<legend>Tipo de documento</legend>" in section  # the radio buttons have their own group
    assert re.search(r'<input type="radio" name="sin-document_type" value="none"[^>]*checked', section)
    assert 'value="passport"' in section and 'value="dni"' not in section
    assert 'method="post"' in section and "<script" not in section
    assert 'placeholder="dd/mm/aaaa"' in section

    error_page = client_for(social_worker).post(register_url(person), register_data(
        household, birth_date="ayer")).content.decode()
    assert re.search(r'<input[^>]*name="sin-birth_date"[^>]*aria-invalid="true"', error_page)
    assert re.search(r'<input[^>]*name="sin-birth_date"[^>]*aria-describedby="[^"]*id_sin-birth_date_error',
                     error_page)


def test_the_page_costs_a_constant_number_of_queries(
    client_for, social_worker, social_services_centre, person, household, django_assert_max_num_queries,
):
    client = client_for(social_worker)
    client.get(composition_url(person))
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert client.get(composition_url(person)).status_code == 200

    # the page that shows the likely duplicates: the same for one as for four
    similar_in_caseload(social_services_centre)
    client.post(register_url(person), register_data(household))
    with django_assert_max_num_queries(PAGE_QUERIES + 5), CaptureQueriesContext(connection) as one:
        assert SIMILAR in client.post(register_url(person), register_data(household)).content.decode()
    for second_surname in ("Saenz", "Sanz", "Sáez"):
        similar_in_caseload(social_services_centre, last_name_2=second_surname)
    with django_assert_max_num_queries(PAGE_QUERIES + 5), CaptureQueriesContext(connection) as four:
        response = client.post(register_url(person), register_data(household))
    assert len(response.context["found"]["candidates"]) == 4
    assert len(four) == len(one)


def test_registering_costs_the_same_in_a_small_and_a_large_household(
    client_for, social_worker, social_services_centre, person, household, django_assert_max_num_queries,
):
    client = client_for(social_worker)
    with django_assert_max_num_queries(REGISTER_QUERIES), CaptureQueriesContext(connection) as small:
        assert client.post(register_url(person), register_data(household)).status_code == 302
    for age in (40, 16, 9, 3, 70):
        other = PersonFactory(birth_date=years_ago(age))
        enrol(other, social_services_centre)
        HouseholdMemberFactory(household=household, person=other, relationship="other_relative")
    household.refresh_from_db()
    with django_assert_max_num_queries(REGISTER_QUERIES), CaptureQueriesContext(connection) as large:
        assert client.post(register_url(person), register_data(
            household, first_name="Iker", last_name_1="Oliva", last_name_2="", sex="M",
            birth_date=typed(years_ago(2)), start_date=typed(years_ago(1)))).status_code == 302
    assert len(large) == len(small)
