"""Search (/espacio/buscar/): over the caseload only, tolerant of accents, case and typos.

- A name is searched in passes, and the first pass that finds someone in the caseload is the
  answer: first by its words (every typed word is a word of the name, the beginning of one, or
  — from four letters — one typo away from one), then, only if that finds nobody, by pg_trgm's
  ``<%`` word similarity against ``Person.search_name`` (unaccented, lower-case full name). The
  query goes through the same functions in SQL; the best match comes first.
- A DNI/NIE and a birth date (dd/mm/aaaa) match exactly.
- Nothing outside the caseload is ever listed, and nothing but the basic sheet is ever
  matched: a word that only appears in a hidden category finds nobody.
- Nothing is said about anyone outside the caseload, not even for an exact DNI/NIE + birth
  date: "esta persona ya consta en el sistema" is answered at registration and at the start of
  a referral only (``cases.search.check_identity``); the search says where to go instead.
"""

from __future__ import annotations

import datetime as dt
import re

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


def test_the_name_exactly_as_typed_comes_first(client_for, social_worker, attended):
    """Sara Navarro Alonso holds every word (and trigram) of "sara navarro navarro" too."""
    alonso = attended("Sara", "Navarro", "Alonso")
    navarro = attended("Sara", "Navarro", "Navarro")
    assert names(search(client_for(social_worker), "sara navarro navarro")) == [
        navarro.pk,
        alonso.pk,
    ]


def test_a_different_name_is_not_found(client_for, social_worker, attended):
    attended("José", "García", "Pérez")
    assert names(search(client_for(social_worker), "Marisol Etxeberria")) == []


def sql_of(client, q: str) -> str:
    """The SQL a search ran (the queries about names only)."""
    with CaptureQueriesContext(connection) as ctx:
        search(client, q)
    return " ".join(
        q["sql"]
        for q in ctx.captured_queries
        if "search_name" in q["sql"] or "cases_person_name_word" in q["sql"]
    )


def test_the_query_goes_through_unaccent_and_lower_in_sql_and_is_matched_by_words_first(
    client_for,
    social_worker,
    attended,
):
    attended("José", "García", "Pérez")
    sql = sql_of(client_for(social_worker), "José García")
    assert "ris_unaccent(lower(" in sql.lower()
    assert "to_tsvector('simple'::regconfig" in sql and "@@" in sql  # the words index
    assert "%>" not in sql  # the words found someone: no trigram pass
    assert "WORD_SIMILARITY" in sql  # ranking


def test_the_word_similarity_operator_runs_only_when_the_words_find_nobody(
    client_for,
    social_worker,
    attended,
):
    attended("José", "García", "Pérez")
    sql = sql_of(client_for(social_worker), "José García Ortiz")  # the record has no Ortiz
    assert "@@" in sql
    assert "%>" in sql  # search_name %> query  ≡  query <% search_name
    assert "ris_unaccent(LOWER(" in sql


# --- Passes: words first, similar names only when no word matches --------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "Eustaquio Villaverze",  # a letter changed
        "Eustaquio Vilaverde",  # a letter missing
        "Eustaquio Villavverde",  # a letter too many
        "Eustaquio Villaevrde",  # two letters swapped
        "Eustaqio Villaverde Quintanar",  # in any word
        "villav",  # the beginning of a word
        "eustaquio quint",
    ],
)
def test_each_typed_word_may_be_a_word_its_beginning_or_one_typo_away(
    q, client_for, social_worker, attended
):
    person = attended("Eustaquio", "Villaverde", "Quintanar")
    sql = sql_of(client_for(social_worker), q)
    assert names(search(client_for(social_worker), q)) == [person.pk]
    assert "%>" not in sql  # found by the words pass


def test_a_typed_word_that_is_itself_a_name_still_finds_the_names_one_letter_away(
    client_for, social_worker, attended
):
    marta = attended("Marta", "Lozano", "Ruiz")
    maria = attended("María", "Lozano", "Ruiz")
    assert names(search(client_for(social_worker), "marta lozano")) == [marta.pk, maria.pk]


def test_a_word_of_fewer_than_four_letters_is_taken_only_as_written_or_as_a_beginning(
    client_for, social_worker, attended
):
    paz = attended("Eva", "Paz", "Gil")
    attended("Eva", "Pau", "Gil")
    paza = attended("Eva", "Pazos", "Gil")
    assert names(search(client_for(social_worker), "eva paz gil")) == [paz.pk, paza.pk]


def test_when_every_typed_word_is_found_looser_matches_are_not_listed(
    client_for, social_worker, attended
):
    """The first pass that finds someone is the answer: "garces" is two letters away from
    "garcia", so José Garcés (similar enough for the trigram pass) is left out."""
    garcia = attended("José", "García", "Pérez")
    attended("José", "Garcés", "Pérez")
    assert names(search(client_for(social_worker), "jose garcia perez")) == [garcia.pk]


@pytest.mark.parametrize(
    "q",
    [
        "José García Pérez Ortiz",  # a word the record lacks
        "jose garxya",  # two typos in a word
    ],
)
def test_when_no_one_has_every_typed_word_similar_names_are_searched(
    q, client_for, social_worker, attended
):
    jose = attended("José", "García", "Pérez")
    assert names(search(client_for(social_worker), q)) == [jose.pk]


def test_words_of_names_outside_the_caseload_never_bring_their_persons_in(
    client_for, social_worker, attended, employment_office
):
    ours = attended("José", "García", "Pérez")
    theirs = PersonFactory(first_name="José", last_name_1="Garzía", last_name_2="Pérez")
    enrol(theirs, employment_office)
    assert names(search(client_for(social_worker), "jose garzia perez")) == [ours.pk]


def test_a_renamed_person_is_found_by_the_new_name_with_a_typo(client_for, social_worker, attended):
    person = attended("Lucía", "Martín", "Soto")
    Person.objects.filter(pk=person.pk).update(last_name_1="Zubiaurre")
    client = client_for(social_worker)
    assert names(search(client, "lucia zubiaure")) == [person.pk]
    assert "%>" not in sql_of(client, "lucia zubiaure")


def test_persons_loaded_in_bulk_without_triggers_for_foreign_keys_are_found_with_typos(
    client_for, social_worker, social_services_centre
):
    """``cases.demo`` loads synthetic persons in replica mode (no foreign-key triggers): the
    word table is kept all the same."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        person = PersonFactory(first_name="Ildefonso", last_name_1="Olabarrieta", last_name_2="")
        cursor.execute("SET LOCAL session_replication_role = origin")
    enrol(person, social_services_centre)
    client = client_for(social_worker)
    assert names(search(client, "ildefonso olabarieta")) == [person.pk]
    assert "%>" not in sql_of(client, "ildefonso olabarieta")  # found by the words pass


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


def test_an_exact_document_and_birth_date_outside_the_caseload_answers_as_for_nobody(
    client_for,
    social_worker,
    elsewhere,
):
    """The page is the page of a search for a document nobody has (the typed query aside); it
    says that the search looks only at the caseload and that registration checks the whole
    system. Nothing is disclosed, so nothing is logged."""
    client = client_for(social_worker)
    bodies = []
    for document in (valid_dni(777), valid_dni(779)):  # the person's, and nobody's
        response = search(client, f"{document} 14/03/1985")
        assert response.status_code == 200
        assert names(response) == []
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
        bodies.append(body.replace(document, "<doc>"))
    assert bodies[0] == bodies[1]
    assert "Esta persona ya consta en el sistema" not in bodies[0]
    assert "vincular" not in bodies[0]
    assert (
        "La búsqueda no mira fuera de sus casos. Si va a atender a esta persona, dela de alta"
        in bodies[0]
    )
    assert not DisclosureLogEntry.objects.exists()


def test_the_ya_consta_answer_serves_registration_and_the_start_of_a_referral_only(
    social_worker, elsewhere
):
    from cases.search import check_identity
    from ris.accounts.viewer import Viewer

    viewer = Viewer.from_membership(social_worker.memberships.get())
    for context in ("registration", "referral"):
        found = check_identity(
            viewer=viewer, document=valid_dni(777), birth_date=BORN, context=context
        )
        assert found.elsewhere_id == elsewhere.pk
    with pytest.raises(ValueError):
        check_identity(viewer=viewer, document=valid_dni(777), birth_date=BORN, context="search")
    assert sorted(DisclosureLogEntry.objects.values_list("basis", flat=True)) == [
        "lookup:referral",
        "lookup:registration",
    ]


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
