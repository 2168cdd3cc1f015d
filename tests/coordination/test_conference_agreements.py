"""Agreements of a case conference are filtered like the record.

Each agreement carries the data category it concerns and the service that recorded it. An
attendee sees it as ``sharing.policy.decide`` gives them that (category, service) pair for
the purpose "comisión": in full (its text), as an indicator ("hay acuerdos en el área X
registrados por Y", no text, no date), or not at all, and then the page is byte for byte the
page of a case without agreements. Only the service that recorded an agreement turns it into
a plan action, which keeps the agreement's area. Agreements recorded before they had an area
were given the most restrictive area of their service.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.purposes import Purpose
from coordination import selectors, services
from coordination.models import ConferenceAgreement, PlanAction
from ris.accounts.models import Role, ServiceKind
from sharing.defaults import FULL, HIDDEN, INDICATOR, default_level
from sharing.models import DisclosureLogEntry

from .builders import add_agreement, add_case, make_conference, make_plan

pytestmark = pytest.mark.django_db

SECRET = "ACUERDO-RESERVADO tratamiento en la unidad de salud mental"
_CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
_RANK = {HIDDEN: 0, INDICATOR: 1, FULL: 2}


def blank_csrf(body: bytes) -> bytes:
    return _CSRF_VALUE.sub(b'name="csrfmiddlewaretoken" value="-"', body)


@pytest.fixture
def case(
    social_services_centre, employment_office, social_worker, employment_counsellor, shared_person
):
    """A case both services attend, in a conference both attend."""
    conference = make_conference(
        social_services_centre,
        social_worker,
        attendees=[(employment_counsellor, employment_office)],
    )
    return add_case(conference, shared_person, social_services_centre, social_worker)


def detail_url(case) -> str:
    return reverse("coordination:conference_detail", args=[case.conference_id])


def case_url(case) -> str:
    return reverse("coordination:conference_case", args=[case.conference_id, case.pk])


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def social_agreement(case, social_services_centre, social_worker, category: str):
    return add_agreement(case, social_services_centre, social_worker, SECRET, category=category)


# --- What each attendee sees ----------------------------------------------------------------------


def test_without_consent_the_orientador_does_not_read_the_social_workers_agreement(
    case, shared_person, social_services_centre, social_worker, employment_counsellor, client_for
):
    """The probe of the review: the same text as a "salud" plan action was hidden from him."""
    social_agreement(case, social_services_centre, social_worker, "exclusion_social")
    social_agreement(case, social_services_centre, social_worker, "salud")
    html = page(client_for(employment_counsellor), detail_url(case))
    assert shared_person.full_name in html  # he attends the person
    assert "ACUERDO-RESERVADO" not in html
    assert "Hay acuerdos en el área" not in html
    assert "Sin acuerdos todavía." in html


@pytest.mark.parametrize(
    "category, level",
    [
        ("exclusion_social", FULL),
        ("salud", INDICATOR),  # the matrix caps health at an indicator for the orientador
        ("antecedentes_penales", HIDDEN),  # and hides criminal records from him
    ],
)
def test_with_consent_each_agreement_is_shown_at_the_level_sharing_gives_its_area(
    category,
    level,
    case,
    shared_person,
    social_services_centre,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE])
    agreement = social_agreement(case, social_services_centre, social_worker, category)
    html = page(client_for(employment_counsellor), detail_url(case))
    indicator = (
        f"Hay acuerdos en el área «{agreement.get_category_display()}» registrados por "
        "Servicios sociales."
    )
    assert (SECRET in html) is (level == FULL)
    assert (indicator in html) is (level == INDICATOR)
    assert ("Sin acuerdos todavía." in html) is (level == HIDDEN)
    if level != FULL:
        assert agreement.recorded_at.strftime("%d/%m/%Y") not in html.split("Acuerdos")[-1]
        assert reverse("coordination:agreement_to_action", args=[agreement.pk]) not in html


def test_a_consent_for_another_purpose_does_not_open_the_agreements(
    case,
    shared_person,
    social_services_centre,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    social_agreement(case, social_services_centre, social_worker, "exclusion_social")
    assert SECRET not in page(client_for(employment_counsellor), detail_url(case))


def test_the_recording_service_reads_its_own_agreements_in_every_area(
    case, social_services_centre, social_worker, client_for
):
    for category in ("salud", "antecedentes_penales", "exclusion_social"):
        social_agreement(case, social_services_centre, social_worker, category)
    html = page(client_for(social_worker), detail_url(case))
    assert html.count(SECRET) == 3


def test_the_indicator_is_shown_once_per_area_and_service(
    case,
    shared_person,
    social_services_centre,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE])
    for _ in range(3):
        social_agreement(case, social_services_centre, social_worker, "salud")
    html = page(client_for(employment_counsellor), detail_url(case))
    assert html.count("Hay acuerdos en el área «Salud y discapacidad»") == 1


def test_what_the_agreements_reveal_across_services_is_logged_in_one_request(
    case,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    given = consent(
        shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE]
    )
    social_agreement(case, social_services_centre, social_worker, "exclusion_social")
    social_agreement(case, social_services_centre, social_worker, "exclusion_social")
    social_agreement(case, social_services_centre, social_worker, "salud")
    social_agreement(case, social_services_centre, social_worker, "antecedentes_penales")
    page(client_for(employment_counsellor), detail_url(case))
    lines = DisclosureLogEntry.objects.filter(
        person=shared_person, organisation=employment_office, purpose=Purpose.CASE_CONFERENCE
    )
    assert sorted(lines.values_list("event", "category", "level", "basis")) == [
        ("disclosure", "exclusion_social", FULL, f"consent:{given.pk}"),
        ("disclosure", "salud", INDICATOR, f"consent:{given.pk}"),
    ]
    assert len(set(lines.values_list("request_id", flat=True))) == 1


# --- A hidden agreement looks exactly like no agreement -------------------------------------------


@pytest.mark.parametrize("which", ["detalle_comision", "caso_comision"])
def test_hidden_agreements_look_exactly_like_no_agreement(
    which,
    case,
    shared_person,
    social_services_centre,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    """As test_hidden_categories_with_data_look_exactly_like_empty_ones (tests/sharing/
    test_attacks.py), for the conference pages: agreements the orientador may not see (no consent
    for the social areas; criminal records hidden by the matrix even with one) leave them byte for
    byte as they were."""
    consent(
        shared_person,
        services=[ServiceKind.EMPLOYMENT],
        purposes=[Purpose.CASE_CONFERENCE],
        categories=["antecedentes_penales", "demanda_empleo"],
    )
    client = client_for(employment_counsellor)
    url = detail_url(case) if which == "detalle_comision" else case_url(case)

    def fetch() -> bytes:
        response = client.get(url)
        assert response.status_code == 200
        return blank_csrf(response.content)

    before = fetch()
    for category in ("exclusion_social", "salud", "situacion_familiar", "antecedentes_penales"):
        social_agreement(case, social_services_centre, social_worker, category)
    after = fetch()
    assert b"ACUERDO-RESERVADO" not in after
    assert after == before


def test_a_visible_agreement_changes_the_page_so_the_comparison_above_can_fail(
    case, shared_person, employment_office, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    before = blank_csrf(client.get(detail_url(case)).content)
    add_agreement(
        case,
        employment_office,
        employment_counsellor,
        "Taller de empleo",
        category="itinerario_empleo",
    )
    after = blank_csrf(client.get(detail_url(case)).content)
    assert after != before and b"Taller de empleo" in after


# --- Recording an agreement -----------------------------------------------------------------------


def test_an_agreement_needs_an_area_of_the_recording_service(
    case, social_worker, client_for, viewer_of
):
    client = client_for(social_worker)
    url = reverse("coordination:agreement_create", args=[case.pk])
    client.post(url, {"text": "Sin área"})
    client.post(url, {"text": "Área de otro servicio", "category": "itinerario_empleo"})
    assert not ConferenceAgreement.objects.exists()
    with pytest.raises(ValidationError) as refused:
        services.agreement_create(
            viewer=viewer_of(social_worker), case_id=case.pk, text="x", category="demanda_empleo"
        )
    assert "solo puede registrar acuerdos en sus propias áreas" in refused.value.messages[0]
    assert client.post(url, {"text": "Valorar", "category": "salud"}).status_code == 302
    agreement = ConferenceAgreement.objects.get()
    assert (agreement.category, agreement.recorded_by_service) == ("salud", ServiceKind.SOCIAL)


def test_the_agreement_form_offers_only_the_areas_of_the_viewers_service(
    case, employment_counsellor, client_for
):
    html = page(client_for(employment_counsellor), detail_url(case))
    form = html[html.index('name="category"') :]
    form = form[: form.index("</select>")]
    assert 'value="itinerario_empleo"' in form and 'value="atenciones"' in form
    assert 'value="salud"' not in form and 'value="exclusion_social"' not in form


# --- Turning an agreement into a plan action ------------------------------------------------------


def test_the_action_keeps_the_agreements_area_and_is_seen_as_the_agreement_was(
    case,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    consent(
        shared_person,
        services=[ServiceKind.EMPLOYMENT],
        purposes=[Purpose.CASE_CONFERENCE, Purpose.ITINERARY],
    )
    agreement = social_agreement(case, social_services_centre, social_worker, "salud")
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    response = client_for(social_worker).post(
        reverse("coordination:agreement_to_action", args=[agreement.pk]),
        {
            "plan": plan.pk,
            "action_type": PlanAction.Type.HEALTH,
            "category": "exclusion_social",  # not a field any more: the area is the agreement's
            "start_date": timezone.localdate().strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 302
    action = plan.actions.get()
    assert (action.category, action.owner_service, action.description) == (
        "salud",
        ServiceKind.SOCIAL,
        SECRET,
    )
    html = page(
        client_for(employment_counsellor), reverse("coordination:plan_detail", args=[plan.pk])
    )
    assert SECRET not in html
    assert "Acción en el área «Salud y discapacidad» de Servicios sociales." in html


@pytest.mark.parametrize("with_consent", [False, True])
def test_another_service_cannot_open_or_convert_an_agreement(
    with_consent,
    case,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
    viewer_of,
):
    """Without consent he may not read it; with one he reads it, but an action of his service
    would show it under his service's name, to whoever sees his service's data."""
    if with_consent:
        consent(
            shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE]
        )
    agreement = social_agreement(case, social_services_centre, social_worker, "atenciones")
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    url = reverse("coordination:agreement_to_action", args=[agreement.pk])
    client = client_for(employment_counsellor)
    assert client.get(url).status_code == 404
    assert (
        client.post(
            url,
            {
                "plan": plan.pk,
                "action_type": "otra",
                "start_date": timezone.localdate().strftime("%d/%m/%Y"),
            },
        ).status_code
        == 404
    )
    with pytest.raises(ValidationError if with_consent else PermissionDenied):
        services.agreement_to_action(
            viewer=viewer_of(employment_counsellor),
            agreement_id=agreement.pk,
            plan_id=plan.pk,
            action_type="otra",
            start_date=timezone.localdate(),
        )
    assert not PlanAction.objects.exists()
    assert (url in page(client, detail_url(case))) is False


# --- Agreements recorded before they had an area --------------------------------------------------


def test_old_agreements_got_the_most_restrictive_area_their_service_may_file_under():
    import importlib

    migration = importlib.import_module(
        "coordination.migrations.0002_agreement_category_link_request"
    )
    staff = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN, Role.COORDINATOR)
    for service, legacy in migration.LEGACY_CATEGORY.items():
        own = [code for code, _label in selectors.writable_categories(service)]
        assert legacy in own
        for role in staff:
            assert all(
                _RANK[default_level(role, legacy)] <= _RANK[default_level(role, other)]
                for other in own
            ), (service, role)
    assert set(migration.LEGACY_CATEGORY) == set(ServiceKind.values)
