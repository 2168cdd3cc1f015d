"""Search (/espacio/buscar/): over the caseload only, tolerant of accents, case and typos.

- A name is matched with pg_trgm's ``<%`` word similarity against ``Person.search_name``
  (unaccented, lower-case full name), the query going through the same functions in SQL;
  the best match comes first.
- A DNI/NIE and a birth date (dd/mm/aaaa) match exactly.
- Nothing outside the caseload is ever listed, and nothing but the basic sheet is ever
  matched: a word that only appears in a hidden category finds nobody.
- Outside the caseload, an exact DNI/NIE + birth date answers only "Esta persona ya
  consta en el sistema", and that answer is written to the disclosure log.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import HealthRecord, Person
from cases.search import parse_query
from sharing.models import DisclosureLogEntry
from tests.factories import PersonFactory, enrol, make_section_entry, valid_dni

URL = "/espacio/buscar/"
BORN = dt.date(1985, 3, 14)


@pytest.fixture
def attended(social_services_centre):
    """``attended(first, last1, last2="", **extra)``: a person the social services centre attends"""

    def make(first_name: str, last_name_1: str, last_name_2: str = "", **extra) -> Person:
        person = PersonFactory(
            first_name=first_name, last_name_1=last_name_1, last_name_2=last_name_2, **extra
        )
        enrol(person, social_services_centre)
        return person

    return make


def names(response) -> list[int]:
    result = response.context["result"]
    return [p.pk for p in result.persons] if result else []


def search(client, q: str, **headers):
    return client.get(URL, {"q": q}, **headers)


# --- Accents, case, typos ------------------------------------------------------------------------


def test_jose_garcia_finds_jose_garcia_with_accents(client_for, social_worker, attended):
    jose = attended("José", "García", "Pérez")
    response = search(client_for(social_worker), "jose garcia")
    assert response.status_code == 200
    assert names(response) == [jose.pk]
    assert "García Pérez, José" in response.content.decode()


@pytest.mark.parametrize(
    "q", ["JOSÉ GARCÍA", "José García", "garcia", "GARCÍA PÉREZ", "perez jose"]
)
def test_case_and_accents_do_not_matter(q, client_for, social_worker, attended):
    jose = attended("José", "García", "Pérez")
    assert names(search(client_for(social_worker), q)) == [jose.pk]


@pytest.mark.parametrize("q", ["garzia", "jose garzia", "Josè Garcia Peres", "ibañes"])
def test_one_wrong_letter_still_finds_the_person(q, client_for, social_worker, attended):
    jose = attended("José", "García", "Ibáñez")
    assert names(search(client_for(social_worker), q)) == [jose.pk]


def test_the_closest_name_comes_first(client_for, social_worker, attended):
    garces = attended("Josefa", "Garcés", "Pardo")
    garcia = attended("José", "García", "Pardo")
    response = search(client_for(social_worker), "jose garcia")
    assert names(response)[0] == garcia.pk
    assert set(names(response)) <= {garcia.pk, garces.pk}


def test_a_different_name_is_not_found(client_for, social_worker, attended):
    attended("José", "García", "Pérez")
    assert names(search(client_for(social_worker), "Marisol Etxeberria")) == []


def test_the_query_goes_through_unaccent_and_lower_in_sql_and_uses_the_word_similarity_operator(
    client_for,
    social_worker,
    attended,
):
    attended("José", "García", "Pérez")
    client = client_for(social_worker)
    with CaptureQueriesContext(connection) as ctx:
        search(client, "José García")
    sql = " ".join(q["sql"] for q in ctx.captured_queries if "search_name" in q["sql"])
    assert "ris_unaccent(LOWER(" in sql
    assert "%>" in sql  # search_name %> query  ≡  query <% search_name
    assert "WORD_SIMILARITY" in sql


# --- Document and birth date ----------------------------------------------------------------------


def test_document_matches_exactly_in_any_spelling(client_for, social_worker, attended):
    person = attended("Lucía", "Martín", document_number=valid_dni(501))
    client = client_for(social_worker)
    dni = valid_dni(501)
    spaced = f"{dni[:2]}.{dni[2:5]}.{dni[5:8]}-{dni[8].lower()}"
    assert names(search(client, valid_dni(501))) == [person.pk]
    assert names(search(client, spaced)) == [person.pk]
    assert names(search(client, valid_dni(501)[:6])) == []


def test_a_document_with_a_wrong_letter_is_pointed_out(client_for, social_worker, attended):
    attended("Lucía", "Martín", document_number=valid_dni(502))
    wrong = valid_dni(502)[:8] + ("A" if valid_dni(502)[8] != "A" else "B")
    response = search(client_for(social_worker), wrong)
    assert names(response) == []
    assert "La letra del documento" in response.content.decode()


def test_birth_date_matches_exactly(client_for, social_worker, attended):
    born_then = attended("Lucía", "Martín", birth_date=BORN)
    attended("Pedro", "Martín", birth_date=BORN + dt.timedelta(days=1))
    client = client_for(social_worker)
    assert names(search(client, "14/03/1985")) == [born_then.pk]
    assert names(search(client, "martin 14/03/1985")) == [born_then.pk]


def test_an_impossible_date_gets_a_spanish_error(client_for, social_worker, attended):
    attended("Lucía", "Martín", birth_date=BORN)
    response = search(client_for(social_worker), "31/02/1985")
    assert names(response) == []
    assert "La fecha 31/02/1985 no existe" in response.content.decode()


def test_parse_query_splits_name_document_and_date():
    query = parse_query("  García  x1234567l 14/03/1985 ")
    assert (query.name, query.document, query.birth_date) == ("García", "X1234567L", BORN)
    assert parse_query("12345678Z 1985-03-14").exact_identity
    assert not parse_query("jo").searchable
    assert parse_query("31/02/1985").errors


# --- Caseload only; hidden data never matched ----------------------------------------------------


def test_only_the_caseload_is_searched(client_for, social_worker, attended, employment_office):
    ours = attended("José", "García", "Pérez")
    theirs = PersonFactory(first_name="José", last_name_1="García", last_name_2="Pérez")
    enrol(theirs, employment_office)
    nobodys = PersonFactory(first_name="José", last_name_1="García", last_name_2="Pérez")
    response = search(client_for(social_worker), "jose garcia perez")
    assert names(response) == [ours.pk]
    assert theirs.pk not in names(response) and nobodys.pk not in names(response)


def test_another_organisations_person_finds_nothing_and_says_nothing(
    client_for, social_worker, attended, employment_office
):
    attended("José", "García")
    theirs = PersonFactory(
        first_name="Quintiliano", last_name_1="Berenguela", last_name_2="Zubizarreta"
    )
    enrol(theirs, employment_office)
    response = search(client_for(social_worker), "Quintiliano Berenguela")
    body = response.content.decode()
    assert names(response) == []
    assert "Zubizarreta" not in body
    assert "Esta persona ya consta en el sistema" not in body
    assert not DisclosureLogEntry.objects.filter(person=theirs).exists()


def test_a_word_only_in_a_hidden_category_finds_nothing(
    client_for, employment_counsellor, employment_office
):
    """Health data of social services is at most an indicator for an orientador: not searchable."""
    person = PersonFactory(first_name="Rosa", last_name_1="Llorente")
    enrol(person, employment_office)
    make_section_entry(HealthRecord, person=person, description="Zarzaparrillosis crónica")
    client = client_for(employment_counsellor)
    assert names(search(client, "Llorente")) == [person.pk]  # the person is found by name…
    response = search(client, "Zarzaparrillosis")  # …but never by what the searcher may not see
    assert names(response) == []
    assert "Zarzaparrillosis crónica" not in response.content.decode()


def test_even_own_sections_are_not_searched_only_the_basic_sheet(
    client_for, social_worker, attended
):
    person = attended("Rosa", "Llorente")
    make_section_entry(HealthRecord, person=person, description="Palabraúnicadesalud")
    assert names(search(client_for(social_worker), "Palabraúnicadesalud")) == []


# --- Exact lookup outside the caseload ------------------------------------------------------------


@pytest.fixture
def elsewhere(employment_office):
    person = PersonFactory(
        first_name="Eustaquio",
        last_name_1="Valdemoro",
        last_name_2="Quesada",
        document_number=valid_dni(777),
        birth_date=BORN,
        address_line="Calle Secreta 9",
        phone="699111222",
    )
    enrol(person, employment_office)
    return person


def test_exact_document_and_birth_date_outside_the_caseload_says_only_that_the_person_exists(
    client_for,
    social_worker,
    elsewhere,
):
    response = search(client_for(social_worker), f"{valid_dni(777)} 14/03/1985")
    body = response.content.decode()
    assert response.status_code == 200
    assert names(response) == []
    assert "Esta persona ya consta en el sistema" in body
    for secret in (
        "Eustaquio",
        "Valdemoro",
        "Quesada",
        "Calle Secreta",
        "699111222",
        f"/personas/{elsewhere.pk}/",
    ):
        assert secret not in body
    line = DisclosureLogEntry.objects.get(person=elsewhere)
    assert (line.event, line.user_id, line.basis) == (
        DisclosureLogEntry.Event.LOOKUP,
        social_worker.pk,
        "lookup:search",
    )


@pytest.mark.parametrize(
    "q",
    [
        valid_dni(777),
        "14/03/1985",
        f"{valid_dni(777)} 15/03/1985",
        f"Eustaquio {valid_dni(777)} 14/03/1985",
    ],
)
def test_anything_less_than_the_exact_pair_outside_the_caseload_finds_nothing_and_logs_nothing(
    q,
    client_for,
    social_worker,
    elsewhere,
):
    response = search(client_for(social_worker), q)
    assert names(response) == []
    assert "Esta persona ya consta en el sistema" not in response.content.decode()
    assert not DisclosureLogEntry.objects.filter(person=elsewhere).exists()


def test_the_exact_pair_inside_the_caseload_lists_the_person_and_logs_nothing(
    client_for, social_worker, attended
):
    person = attended("Lucía", "Martín", document_number=valid_dni(778), birth_date=BORN)
    response = search(client_for(social_worker), f"{valid_dni(778)} 14/03/1985")
    assert names(response) == [person.pk]
    assert not DisclosureLogEntry.objects.filter(person=person).exists()


# --- The page: htmx partial, no JavaScript needed, access -----------------------------------------


def test_htmx_gets_only_the_results_partial_and_without_javascript_the_whole_page(
    client_for, social_worker, attended
):
    attended("José", "García")
    client = client_for(social_worker)
    full = search(client, "garcia")
    partial = search(client, "garcia", HTTP_HX_REQUEST="true")
    assert "<html" in full.content.decode() and 'id="search-results"' in full.content.decode()
    assert "<html" not in partial.content.decode()
    assert [t.name for t in partial.templates][0] == "cases/_search_results.html"
    assert "García, José" in partial.content.decode()


def test_an_empty_search_shows_the_form(client_for, social_worker):
    response = client_for(social_worker).get(URL)
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


@pytest.mark.parametrize("persona", ["social_worker", "employment_counsellor", "coordinator"])
def test_staff_may_search(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(URL, {"q": "garcia"}).status_code == 200


@pytest.mark.parametrize(
    "persona", ["ngo_technician", "evaluator", "dpo", "administrator", "outsider"]
)
def test_everyone_else_gets_404(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(URL, {"q": "garcia"}).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL, {"q": "garcia"})
    assert response.status_code == 302 and "/entrar/" in response["Location"]


def test_search_runs_in_a_constant_number_of_queries(
    client_for, social_worker, attended, django_assert_max_num_queries
):
    client = client_for(social_worker)
    attended("José", "García", "Uno")
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert len(names(search(client, "garcia"))) == 1
    for n in range(30):
        attended("José", "García", f"Apellido{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(names(search(client, "garcia"))) == 31
