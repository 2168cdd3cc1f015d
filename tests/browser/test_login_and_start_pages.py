"""Every role signs in through the Spanish login page and lands on its own start page,
and the main pages have no serious or critical accessibility violation (axe-core)."""

import pytest

from tests.browser.conftest import axe_violations, login
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "contraseña-de-prueba-2026"

LANDING = [
    ("social_worker", "social", "/espacio/", "Personas que atiende mi organización"),
    ("employment_counsellor", "employment", "/espacio/", "Personas que atiende mi organización"),
    ("ngo_technician", "third_sector", "/portal/", "Portal de entidades"),
]


def _user(role: str, kind: str):
    user = UserFactory(username=f"u-{role}")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(user=user, organisation=OrganisationFactory(kind=kind), role=role)
    return user


@pytest.mark.parametrize(("role", "kind", "path", "heading"), LANDING)
def test_role_lands_on_its_start_page_and_it_is_accessible(new_page, shots, role, kind, path, heading):
    user = _user(role, kind)
    page = new_page()
    page.goto("/")
    assert page.url.endswith("/entrar/?next=/")
    assert axe_violations(page) == []
    shots(page, "login")
    login(page, user.username, PASSWORD)
    assert page.url.endswith(path)
    assert heading in page.inner_text("h1")
    shots(page, "start-page")
    assert axe_violations(page) == []


def test_wrong_password_is_told_in_spanish(new_page, shots):
    user = _user("social_worker", "social")
    page = new_page()
    login(page, user.username, "no-es-esta")
    assert "Usuario o contraseña incorrectos" in page.inner_text("main")
    shots(page, "wrong-password")
