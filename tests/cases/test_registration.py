"""Registration without duplicates (/espacio/personas/nueva/).

- The DNI/NIE is validated as Spain does (cases.identity), with Spanish errors that say
  what to fix; a future birth date is refused; a person without a document needs a reason.
- Whatever the user typed is shown again when there is an error.
- The same document and birth date outside the caseload: only "Esta persona ya consta en el
  sistema" and a button to request linking through a referral, nothing else about the person;
  the answer is written to the disclosure log.
- The same document with another birth date outside the caseload: a refusal that asks to check
  both, as for a document typed wrong, and says nothing of anyone holding it; the basic sheet
  refuses the same way. Each such collision, and each failed lookup at the start of a referral,
  is a line in the disclosure log, so that the data protection officer sees who probes.
- A similar name with the same birth date in the caseload is shown before creating; the
  user confirms "no es ninguna de estas personas" to create.
- Creating enrols the person in the user's organisation and makes the user their
  reference professional (cases.services.person_register).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.models import Person, ReferenceProfessional
from cases.views import LINK_SESSION_KEY
from sharing.caseload import organisation_attends
from sharing.models import DisclosureLogEntry
from tests.factories import PersonFactory, enrol, valid_dni

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')

URL = "/espacio/personas/nueva/"


def form_data(**overrides) -> dict:
    data = {
        "first_name": "Josefina",
        "last_name_1": "Arrabal",
        "last_name_2": "Quintana",
        "document_type": "dni",
        "document_number": valid_dni(9001),
        "no_document_reason": "",
        "birth_date": "14/03/1985",
        "sex": "F",
        "nationality": "ES",
        "address_line": "Calle Real 3",
        "postal_code": "47001",
        "phone": "600123123",
        "email": "josefina@example.org",
    }
    data.update(overrides)
    return data


def post(client, **overrides):
    return client.post(URL, form_data(**overrides))


def errors(response) -> dict:
    return {k: " ".join(v) for k, v in response.context["form"].errors.items()}


# --- Validation, in Spanish, nothing lost ---------------------------------------------------------


@pytest.mark.parametrize(
    "document_type,number,expected",
    [
        ("dni", "1234567Z", "El DNI debe tener 8 cifras seguidas de una letra"),
        (
            "dni",
            "12345678A",
            "La letra del DNI no es correcta: para 12345678 corresponde la letra Z",
        ),
        ("nie", "A1234567L", "El NIE debe empezar por X, Y o Z"),
        ("nie", "X1234567A", "La letra del NIE no es correcta: corresponde la letra L"),
        ("dni", "", "DNI debe tener 8 cifras"),
        ("passport", "AB1", "El número de pasaporte debe tener entre 5 y 20"),
        ("none", "12345678Z", "Si la persona no tiene documento, deje el número en blanco"),
    ],
)
def test_a_malformed_document_gets_a_clear_spanish_error(
    document_type, number, expected, client_for, social_worker
):
    response = post(
        client_for(social_worker),
        document_type=document_type,
        document_number=number,
        no_document_reason="lost" if document_type == "none" else "",
    )
    assert response.status_code == 200
    assert expected in errors(response)["document_number"]
    assert not Person.objects.filter(last_name_1="Arrabal").exists()


def test_what_the_user_typed_is_kept_on_an_error(client_for, social_worker):
    response = post(client_for(social_worker), document_number="12345678A")
    body = response.content.decode()
    for typed in (
        'value="Josefina"',
        'value="Arrabal"',
        'value="Quintana"',
        'value="12345678A"',
        'value="14/03/1985"',
        'value="Calle Real 3"',
        'value="600123123"',
        'value="josefina@example.org"',
    ):
        assert typed in body, typed


def test_a_document_is_accepted_in_any_spelling_and_stored_normalised(client_for, social_worker):
    dni = valid_dni(9002)
    response = post(
        client_for(social_worker),
        document_number=f"{dni[:2]}.{dni[2:5]}.{dni[5:8]}-{dni[8].lower()}",
    )
    assert response.status_code == 302
    assert Person.objects.get(last_name_1="Arrabal").document_number == dni


def test_a_nie_is_accepted(client_for, social_worker):
    assert (
        post(
            client_for(social_worker), document_type="nie", document_number="X1234567L"
        ).status_code
        == 302
    )


def test_a_future_birth_date_is_refused(client_for, social_worker):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    response = post(client_for(social_worker), birth_date=tomorrow)
    assert "La fecha de nacimiento no puede ser posterior a hoy" in errors(response)["birth_date"]
    assert not Person.objects.filter(last_name_1="Arrabal").exists()


@pytest.mark.parametrize("value", ["31/02/1985", "1985/03/14", "ayer"])
def test_an_invalid_date_says_how_to_write_it(value, client_for, social_worker):
    response = post(client_for(social_worker), birth_date=value)
    assert "dd/mm/aaaa" in errors(response)["birth_date"]


def test_without_a_document_a_reason_is_needed(client_for, social_worker):
    client = client_for(social_worker)
    response = post(client, document_type="none", document_number="", no_document_reason="")
    assert "Indique por qué la persona no tiene documento" in errors(response)["no_document_reason"]
    assert (
        post(
            client, document_type="none", document_number="", no_document_reason="minor"
        ).status_code
        == 302
    )


def test_required_fields_say_what_is_missing(client_for, social_worker):
    response = post(client_for(social_worker), first_name="", last_name_1="", sex="")
    found = errors(response)
    assert "Indique el nombre" in found["first_name"]
    assert "Indique el primer apellido" in found["last_name_1"]
    assert "Indique el sexo" in found["sex"]


# --- Creation -------------------------------------------------------------------------------------


def test_creating_enrols_the_person_and_makes_the_user_their_reference(
    client_for, social_worker, social_services_centre
):
    response = post(client_for(social_worker))
    person = Person.objects.get(last_name_1="Arrabal")
    assert response.status_code == 302
    assert response["Location"] == f"/espacio/personas/{person.pk}/"
    assert organisation_attends(social_services_centre.pk, person.pk)
    reference = ReferenceProfessional.objects.get(person=person)
    assert (reference.organisation_id, reference.professional_id) == (
        social_services_centre.pk,
        social_worker.pk,
    )
    assert person.birth_date == dt.date(1985, 3, 14)


# --- Same document and birth date elsewhere: "ya consta", nothing else ----------------------------


@pytest.fixture
def registered_elsewhere(employment_office):
    person = PersonFactory(
        first_name="Eustaquio",
        last_name_1="Valdemoro",
        last_name_2="Quesada",
        document_number=valid_dni(9100),
        birth_date=dt.date(1985, 3, 14),
        address_line="Calle Secreta 9",
        phone="699111222",
    )
    enrol(person, employment_office)
    return person


def test_the_same_document_elsewhere_says_only_that_the_person_exists(
    client_for, social_worker, registered_elsewhere
):
    response = post(client_for(social_worker), document_number=valid_dni(9100))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Esta persona ya consta en el sistema" in body
    assert "Solicitar la vinculación mediante derivación" in body
    for secret in (
        "Eustaquio",
        "Valdemoro",
        "Calle Secreta",
        "699111222",
        f"/personas/{registered_elsewhere.pk}/",
    ):
        assert secret not in body
    assert Person.objects.filter(document_number=valid_dni(9100)).count() == 1
    assert not Person.objects.filter(last_name_1="Arrabal").exists()
    line = DisclosureLogEntry.objects.get(person=registered_elsewhere)
    assert (line.event, line.level, line.basis, line.user_id) == (
        "lookup",
        "indicator",
        "lookup:registration",
        social_worker.pk,
    )


REFUSED = (
    "No se puede usar este número de documento con esta fecha de nacimiento. Compruebe los dos "
    "datos en el documento de la persona."
)


def test_someone_elses_document_with_another_birth_date_is_refused_without_saying_it_is_taken(
    client_for, social_worker, registered_elsewhere
):
    response = post(
        client_for(social_worker), document_number=valid_dni(9100), birth_date="15/03/1985"
    )
    body = response.content.decode()
    assert errors(response) == {"document_number": REFUSED}
    for told in (
        "ya consta",
        "registrada",
        "otra fecha",
        "Eustaquio",
        f"/personas/{registered_elsewhere.pk}/",
    ):
        assert told not in body, told
    assert Person.objects.filter(document_number=valid_dni(9100)).count() == 1
    assert not Person.objects.filter(last_name_1="Arrabal").exists()
    line = DisclosureLogEntry.objects.get(person=registered_elsewhere)
    assert (line.event, line.level, line.basis, line.user_id) == (
        "lookup",
        "hidden",
        "lookup:registration:other_birth_date",
        social_worker.pk,
    )


def test_the_refusal_is_the_same_whoever_holds_the_document(
    client_for, social_worker, registered_elsewhere, ngo
):
    other = PersonFactory(document_number=valid_dni(9102), birth_date=dt.date(1950, 1, 2))
    enrol(other, ngo)
    client = client_for(social_worker)
    bodies = []
    for document in (valid_dni(9100), valid_dni(9102)):
        response = post(client, document_number=document, birth_date="15/03/1985")
        bodies.append(CSRF.sub("", response.content.decode()).replace(document, "<doc>"))
    assert bodies[0] == bodies[1]


def test_the_same_document_in_the_own_caseload_links_to_the_record(
    client_for, social_worker, social_services_centre
):
    ours = PersonFactory(document_number=valid_dni(9101))
    enrol(ours, social_services_centre)
    response = post(client_for(social_worker), document_number=valid_dni(9101))
    assert "Su organización ya atiende a esta persona" in response.content.decode()
    assert f"/espacio/personas/{ours.pk}/" in response.content.decode()
    assert not DisclosureLogEntry.objects.filter(person=ours).exists()


def test_requesting_the_link_is_logged_and_remembers_the_person_for_the_referral(
    client_for, social_worker, registered_elsewhere
):
    client = client_for(social_worker)
    response = client.post(
        "/espacio/personas/vincular/",
        {"document_number": valid_dni(9100), "birth_date": "14/03/1985"},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert "Esta persona ya consta en el sistema" in response.content.decode()
        assert "Eustaquio" not in response.content.decode()
    assert client.session[LINK_SESSION_KEY] == registered_elsewhere.pk
    assert (
        DisclosureLogEntry.objects.filter(
            person=registered_elsewhere, event="lookup", basis="lookup:referral"
        ).count()
        == 1
    )


def test_requesting_a_link_for_someone_who_is_not_there_is_a_404_and_is_logged(
    client_for, social_worker, registered_elsewhere
):
    """Another birth date, or a document nobody has: the same 404, each logged (on the record whose
    document was typed, or with no person)."""
    client = client_for(social_worker)
    answers = []
    for document in (valid_dni(9100), valid_dni(9103)):
        response = client.post(
            "/espacio/personas/vincular/", {"document_number": document, "birth_date": "15/03/1985"}
        )
        assert response.status_code == 404
        answers.append(response.content)
    assert answers[0] == answers[1]
    assert LINK_SESSION_KEY not in client.session
    assert client.get("/espacio/personas/vincular/").status_code == 405
    lines = DisclosureLogEntry.objects.filter(user=social_worker).order_by("id")
    assert [(line.event, line.person_id, line.level, line.basis) for line in lines] == [
        ("lookup", registered_elsewhere.pk, "hidden", "lookup:referral:other_birth_date"),
        ("lookup", None, "hidden", "lookup:referral:no_match"),
    ]


# --- The basic sheet: the same neutral refusal ----------------------------------------------------


def test_the_basic_sheet_refuses_someone_elses_document_without_saying_it_is_taken(
    client_for, social_worker, social_services_centre, registered_elsewhere
):
    from cases.record_forms import PersonForm

    ours = PersonFactory(document_number=valid_dni(9104), birth_date=dt.date(1985, 3, 14))
    enrol(ours, social_services_centre)
    form = PersonForm(instance=ours)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, dt.date):
            value = value.strftime("%d/%m/%Y")
        elif isinstance(value, (list, tuple)):
            value = ",".join(value)
        data[name] = "" if value is None else value
    response = client_for(social_worker).post(
        f"/espacio/personas/{ours.pk}/ficha/", {**data, "document_number": valid_dni(9100)}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["document_number"] == [REFUSED]
    assert "Ya existe una persona registrada con ese documento" not in body
    ours.refresh_from_db()
    assert ours.document_number == valid_dni(9104)
    assert DisclosureLogEntry.objects.filter(person=registered_elsewhere, event="lookup").exists()


def test_the_model_refuses_a_taken_document_on_the_document_without_saying_it_is_taken(db):
    from django.core.exceptions import ValidationError

    PersonFactory(document_number=valid_dni(9105))
    twin = PersonFactory.build(document_number=valid_dni(9105))
    with pytest.raises(ValidationError) as caught:
        twin.full_clean()
    assert caught.value.message_dict == {"document_number": [REFUSED]}


# --- Likely duplicates in the caseload ------------------------------------------------------------


@pytest.fixture
def similar(social_services_centre):
    person = PersonFactory(
        first_name="Josefina",
        last_name_1="Arrabal",
        last_name_2="Quintana",
        document_type="passport",
        document_number="PASA12345",
        birth_date=dt.date(1985, 3, 14),
    )
    enrol(person, social_services_centre)
    return person


def test_a_similar_name_born_the_same_day_is_shown_before_creating(
    client_for, social_worker, similar
):
    response = post(
        client_for(social_worker),
        first_name="Josefina",
        last_name_1="Arraval",
        last_name_2="Quintana",
        document_type="none",
        document_number="",
        no_document_reason="lost",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert [p.pk for p in response.context["duplicates"]] == [similar.pk]
    assert "¿Es alguna de estas personas?" in body
    assert f"/espacio/personas/{similar.pk}/" in body
    assert 'value="Arraval"' in body  # nothing typed is lost
    assert Person.objects.count() == 1


def test_confirming_it_is_none_of_them_creates_the_person(client_for, social_worker, similar):
    client = client_for(social_worker)
    data = {
        "first_name": "Josefina",
        "last_name_1": "Arraval",
        "last_name_2": "Quintana",
        "document_type": "none",
        "document_number": "",
        "no_document_reason": "lost",
    }
    shown = post(client, **data)
    assert shown.context["duplicates"]
    not_ticked = post(client, **data, duplicates_seen=str(similar.pk), confirm_new="1")
    assert "Marque la casilla" in not_ticked.content.decode()
    assert Person.objects.count() == 1
    created = post(
        client, **data, duplicates_seen=str(similar.pk), confirm_new="1", not_a_duplicate="on"
    )
    assert created.status_code == 302
    assert Person.objects.filter(last_name_1="Arraval").count() == 1


def test_a_confirmation_does_not_cover_similar_persons_that_were_not_shown(
    client_for, social_worker, similar
):
    response = post(
        client_for(social_worker),
        last_name_1="Arraval",
        document_type="none",
        document_number="",
        no_document_reason="lost",
        duplicates_seen="",
        confirm_new="1",
        not_a_duplicate="on",
    )
    assert response.status_code == 200
    assert response.context["duplicates"]
    assert Person.objects.count() == 1


def test_a_similar_name_with_another_birth_date_is_not_a_duplicate(
    client_for, social_worker, similar
):
    response = post(
        client_for(social_worker), birth_date="15/03/1985", document_number=valid_dni(9200)
    )
    assert response.status_code == 302


def test_similar_persons_outside_the_caseload_are_never_shown(
    client_for, social_worker, employment_office
):
    theirs = PersonFactory(
        first_name="Josefina",
        last_name_1="Arrabal",
        last_name_2="Quintana",
        birth_date=dt.date(1985, 3, 14),
    )
    enrol(theirs, employment_office)
    response = post(client_for(social_worker), document_number=valid_dni(9201))
    assert response.status_code == 302


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["social_worker", "employment_counsellor"])
def test_caseworkers_may_register(persona, request, client_for):
    response = client_for(request.getfixturevalue(persona)).get(URL)
    assert response.status_code == 200
    assert '<label for="id_document_number">' in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["ngo_technician", "coordinator", "evaluator", "dpo", "administrator", "outsider"]
)
def test_everyone_else_gets_404(persona, request, client_for):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 404
    assert client.post(URL, form_data()).status_code == 404
    assert not Person.objects.exists()
