"""The pages a caseworker, a coordinator and the data protection officer use every day beyond
the main scenario have no serious or critical accessibility violation (axe-core), and on a
phone-sized screen (375 px) none makes the whole page scroll sideways: wide tables scroll
inside their own box."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ris.accounts.models import Role, ServiceKind
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import DisclosureLogEntry
from tests.browser.conftest import axe_violations, login
from tests.coordination.builders import (
    add_agreement,
    add_case,
    give_consent,
    make_action,
    make_conference,
    make_goal,
    make_plan,
    make_resource,
)
from tests.factories import (
    HouseholdFactory,
    HouseholdMemberFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
    enrol,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "contraseña-de-prueba-2026"


def _user(role: str, organisation, username: str):
    user = UserFactory(username=username)
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def world():
    centre = OrganisationFactory(kind=ServiceKind.SOCIAL, name="CEAS Delicias")
    office = OrganisationFactory(kind=ServiceKind.EMPLOYMENT, name="Oficina de Empleo Parquesol")
    social = _user(Role.SOCIAL_WORKER, centre, "ts-accesible")
    coordinator = _user(Role.COORDINATOR, centre, "coord-accesible")
    dpo = _user(Role.DATA_PROTECTION_OFFICER, centre, "dpd-accesible")
    person = PersonFactory(first_name="Lucía", last_name_1="Herrero", last_name_2="Pastor")
    enrol(person, centre)
    enrol(person, office)
    household = HouseholdFactory(monthly_income="640.00")
    HouseholdMemberFactory(household=household, person=person)
    child = PersonFactory(first_name="Hugo", birth_date=timezone.localdate() - dt.timedelta(days=7 * 366))
    enrol(child, centre)
    HouseholdMemberFactory(household=household, person=child, relationship="child")
    consent = give_consent(person, organisations=(office,), purposes=("seguimiento", "derivacion"))
    plan = make_plan(person, centre, social, participants=(office,))
    goal = make_goal(plan, centre, social, category="exclusion_social", description="Estabilizar la vivienda")
    action = make_action(plan, centre, social, category="exclusion_social", description="Acompañamiento social",
                         goal=goal)
    make_action(plan, centre, social, category="exclusion_social", description="Taller de habilidades")
    # recorded by the centre without its signed form: the page to attach it
    unsigned = give_consent(person, services=("social",), purposes=("seguimiento",), recorded_by=social,
                            recorded_by_org=centre)
    conference = make_conference(centre, social)
    add_agreement(add_case(conference, person, centre, social), centre, social, "Revisar la vivienda")
    make_resource(centre)
    disclosure_log_append([LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel="web",
                                   person_id=person.pk, category="salud", level="full",
                                   purpose="seguimiento", basis="consent:1")])
    return {"social": social, "coordinator": coordinator, "dpo": dpo, "person": person,
            "consent": consent, "conference": conference, "plan": plan, "action": action,
            "unsigned": unsigned}


def pages_of(world) -> dict[str, list[str]]:
    p = world["person"].pk
    return {
        "social": [
            "/espacio/buscar/?q=Herrero",
            f"/espacio/personas/{p}/",
            f"/espacio/personas/{p}/unidad-convivencia/",
            f"/espacio/personas/{p}/unidad-convivencia/economia/",
            f"/espacio/personas/{p}/itinerarios/",
            f"/espacio/itinerarios/{world['plan'].pk}/",
            f"/espacio/itinerarios/acciones/{world['action'].pk}/",
            f"/espacio/personas/{p}/consentimientos/{world['unsigned'].pk}/documento/adjuntar/",
            f"/espacio/personas/{p}/consentimientos/{world['consent'].pk}/alcance/",
            f"/espacio/personas/{p}/derivar/",
            "/espacio/derivaciones/",
            "/espacio/itinerarios/",
            "/espacio/comisiones/",
            f"/espacio/comisiones/{world['conference'].pk}/",
            "/espacio/recursos/",
            "/espacio/alertas/",
        ],
        "coordinator": ["/espacio/coordinacion/"],
        "dpo": ["/dpd/", f"/dpd/personas/{p}/accesos/"],
    }


def overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("who", ["social", "coordinator", "dpo"])
def test_the_daily_pages_are_accessible_and_fit_a_phone(new_page, shots, world, who):
    page = new_page()
    login(page, world[who].username, PASSWORD)
    problems = []
    for path in pages_of(world)[who]:
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(path)
        assert response.status == 200, path
        if axe_violations(page):
            problems.append(f"{path}: axe")
        page.set_viewport_size({"width": 375, "height": 800})
        if overflow(page) > 1:
            problems.append(f"{path}: the page scrolls sideways by {overflow(page)} px at 375 px")
        shots(page, path.strip("/").replace("/", "-").replace("?", "-") or "inicio")
    assert not problems, "\n".join(problems)
