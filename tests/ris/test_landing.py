"""Signing in, and each role's start page.

The login page is in Spanish. After signing in, "/" sends each role to its own start
page; a start page answers only to the roles it belongs to (404 to the others, the
admin sends them to its login). Anonymous users are sent to a login page, and a
user without a membership is told so. Start pages cost the same number of queries
whatever the size of the caseload.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import TEST_PASSWORD, PersonFactory, enrol

pytestmark = pytest.mark.django_db

PERSONAS = (
    "social_worker",
    "employment_counsellor",
    "ngo_technician",
    "coordinator",
    "evaluator",
    "dpo",
    "administrator",
    "outsider",
)

START_PAGES = {
    "social_worker": "workspace:home",
    "employment_counsellor": "workspace:home",
    "coordinator": "workspace:coordinator",
    "ngo_technician": "portal:home",
    "evaluator": "evaluation:home",
    "dpo": "dpo:home",
    "administrator": "admin:index",
}
OWNERS = {
    page: {p for p, owned in START_PAGES.items() if owned == page} for page in START_PAGES.values()
}
# Coordinators follow their pilots too: the evaluation pages (aggregates only) are theirs as well.
OWNERS["evaluation:home"] = OWNERS["evaluation:home"] | {"coordinator"}


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_is_in_spanish(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "Entrar" in html
    assert "Contraseña" in html


def test_a_wrong_password_is_refused_in_spanish(client, social_worker):
    response = sign_in(client, social_worker.username, "no-es-la-contraseña")
    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("persona", list(START_PAGES))
def test_after_login_each_role_lands_on_its_start_page(client, persona, request):
    user = request.getfixturevalue(persona)
    response = sign_in(client, user.username)
    assert response.status_code == 302
    assert response.url == reverse("home")

    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(START_PAGES[persona])

    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("page", sorted(OWNERS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_start_page_answers_only_to_its_roles(page, persona, request, client_for):
    client = client_for(request.getfixturevalue(persona))
    response = client.get(reverse(page))
    if persona in OWNERS[page]:
        assert response.status_code == 200
    elif page == "admin:index":
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("page", ["home", *sorted(OWNERS)])
def test_anonymous_users_are_sent_to_the_login_page(client, page):
    url = reverse(page)
    response = client.get(url)
    assert response.status_code == 302
    login = reverse("admin:login") if page == "admin:index" else reverse("login")
    assert response.url == f"{login}?next={url}"


def test_a_user_without_membership_is_told_so(client, outsider):
    sign_in(client, outsider.username)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "Sin perfil asignado" in response.content.decode()


def test_login_redirects_a_signed_in_user(client_for, social_worker):
    response = client_for(social_worker).get(reverse("login"))
    assert response.status_code == 302
    assert response.url == reverse("home")


# --- Query counts ------------------------------------------------------------------------

CASELOAD_OWNER = {
    "social_worker": "social_services_centre",
    "employment_counsellor": "employment_office",
    "coordinator": "social_services_centre",
    "ngo_technician": "ngo",
    "evaluator": "regional_office",
    "dpo": "regional_office",
    "administrator": "regional_office",
}
MAX_START_PAGE_QUERIES = 10


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", list(START_PAGES))
def test_start_pages_cost_the_same_with_3_or_30_persons(
    persona, request, client_for, django_assert_max_num_queries
):
    organisation = request.getfixturevalue(CASELOAD_OWNER[persona])
    client = client_for(request.getfixturevalue(persona))
    url = reverse(START_PAGES[persona])
    for _ in range(3):
        enrol(PersonFactory(), organisation)
    client.get(url)  # warm caches (content types, session) out of the count
    with_3 = queries_for(client, url)

    for _ in range(27):
        enrol(PersonFactory(), organisation)
    with django_assert_max_num_queries(MAX_START_PAGE_QUERIES):
        with_30 = queries_for(client, url)
    assert with_30 == with_3


def test_the_caseload_lists_the_enrolled_persons(
    social_worker, social_services_centre, employment_office, client_for
):
    mine = PersonFactory(last_name_1="Atendida")
    elsewhere = PersonFactory(last_name_1="Ajena")
    enrol(mine, social_services_centre)
    enrol(elsewhere, employment_office)
    html = client_for(social_worker).get(reverse("workspace:home")).content.decode()
    assert "Atendida" in html
    assert "Ajena" not in html
