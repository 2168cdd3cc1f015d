"""Linking a person who "ya consta en el sistema" through a referral.

The exact DNI/NIE and birth date of someone the organisation does not attend, typed at
registration, answers only "Esta persona ya consta en el sistema" and a button. The button
leads to a request for a link: the user explains why, and the request goes to the
organisations that attend the person, without the user learning anything else about the
person (not even who attends them). The lookup and the request are logged.
An organisation that attends the person answers with a referral to the requester (the usual
referral, with the person's consent) or declines with a reason the requester reads.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.views import LINK_SESSION_KEY
from consent.purposes import Purpose
from coordination import services
from coordination.models import LinkRequest, Referral
from sharing.models import DisclosureLogEntry
from tests.factories import PersonFactory, enrol, valid_dni

from .builders import give_consent, make_link_request

pytestmark = pytest.mark.django_db

LINK_URL = reverse("coordination:referral_link_request")
LIST_URL = reverse("coordination:link_request_list")


@pytest.fixture
def elsewhere(employment_office):
    """Attended by the employment office only; the social services centre looks for him."""
    person = PersonFactory(
        first_name="Eustaquio",
        last_name_1="Valdemoro",
        last_name_2="Quesada",
        document_number=valid_dni(9200),
        birth_date=dt.date(1985, 3, 14),
        address_line="Calle Secreta 9",
        phone="699111222",
    )
    enrol(person, employment_office)
    return person


def secrets_of(person, *organisations) -> list[str]:
    return [
        person.first_name,
        person.last_name_1,
        person.address_line,
        person.phone,
        f"/personas/{person.pk}/",
        *[o.name for o in organisations],
    ]


def registration(client):
    return client.post(
        "/espacio/personas/nueva/",
        {
            "first_name": "Eusta",
            "last_name_1": "Valde",
            "last_name_2": "",
            "document_type": "dni",
            "document_number": valid_dni(9200),
            "no_document_reason": "",
            "birth_date": "14/03/1985",
            "sex": "M",
            "nationality": "ES",
        },
    )


def test_from_ya_consta_the_user_requests_the_link_and_learns_nothing_more(
    client_for, social_worker, social_services_centre, employment_office, elsewhere
):
    client = client_for(social_worker)
    answer = registration(client).content.decode()
    assert "Esta persona ya consta en el sistema" in answer

    # the button of cases/_exists_elsewhere.html: re-checked, logged, then the request page
    response = client.post(
        "/espacio/personas/vincular/",
        {"document_number": valid_dni(9200), "birth_date": "14/03/1985"},
    )
    assert response.status_code == 302 and response.url == LINK_URL
    form_page = client.get(LINK_URL)
    assert form_page.status_code == 200
    body = form_page.content.decode()
    assert 'name="reason"' in body
    for secret in secrets_of(elsewhere, employment_office):
        assert secret not in body

    response = client.post(LINK_URL, {"reason": "Acude a pedir ayuda de alquiler"})
    assert response.status_code == 302 and response.url == LIST_URL
    link = LinkRequest.objects.get()
    assert (link.person, link.from_organisation, link.requested_by, link.state) == (
        elsewhere,
        social_services_centre,
        social_worker,
        LinkRequest.State.PENDING,
    )
    listing = client.get(LIST_URL).content.decode()
    assert "Acude a pedir ayuda de alquiler" in listing
    for secret in secrets_of(elsewhere, employment_office):
        assert secret not in listing
    assert LINK_SESSION_KEY not in client.session

    logged = DisclosureLogEntry.objects.filter(
        person=elsewhere, organisation=social_services_centre, event="lookup"
    )
    assert set(logged.values_list("basis", flat=True)) == {
        "lookup:registration",
        "lookup:referral",
        f"link_request:{link.pk}",
    }


def test_without_a_person_found_by_the_exact_lookup_the_page_only_explains(
    client_for, social_worker
):
    client = client_for(social_worker)
    body = client.get(LINK_URL).content.decode()
    assert "empiece por darla de alta con su DNI o NIE y su fecha de nacimiento" in body
    assert 'name="reason"' not in body
    assert client.post(LINK_URL, {"reason": "Motivo"}).status_code == 200
    assert not LinkRequest.objects.exists()


def test_a_person_the_organisation_already_attends_opens_the_record(
    client_for, social_worker, social_services_centre, elsewhere
):
    enrol(elsewhere, social_services_centre)
    client = client_for(social_worker)
    session = client.session
    session[LINK_SESSION_KEY] = elsewhere.pk
    session.save()
    response = client.get(LINK_URL)
    assert response.status_code == 302
    assert response.url == reverse("workspace:person_record", args=[elsewhere.pk])
    assert not LinkRequest.objects.exists()


def test_a_second_pending_request_of_the_same_organisation_is_refused(
    social_worker, elsewhere, viewer_of
):
    viewer = viewer_of(social_worker)
    services.link_request_create(viewer=viewer, person_id=elsewhere.pk, reason="Primera")
    with pytest.raises(ValidationError) as refused:
        services.link_request_create(viewer=viewer, person_id=elsewhere.pk, reason="Segunda")
    assert "ya tiene una solicitud de vinculación pendiente" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        services.link_request_create(viewer=viewer, person_id=elsewhere.pk, reason="  ")


def test_an_organisation_that_attends_the_person_cannot_request_a_link(
    employment_counsellor, elsewhere, viewer_of
):
    with pytest.raises(PermissionDenied):
        services.link_request_create(
            viewer=viewer_of(employment_counsellor), person_id=elsewhere.pk, reason="Motivo"
        )


# --- The organisations that attend the person answer ----------------------------------------------


@pytest.fixture
def link(elsewhere, social_services_centre, social_worker):
    return make_link_request(
        elsewhere, social_services_centre, social_worker, reason="Acude a pedir ayuda de alquiler"
    )


def test_the_attending_organisation_answers_with_a_referral_to_the_requester(
    link,
    elsewhere,
    social_services_centre,
    employment_office,
    employment_counsellor,
    social_worker,
    client_for,
):
    give_consent(elsewhere, organisations=[social_services_centre], purposes=[Purpose.REFERRAL])
    client = client_for(employment_counsellor)
    listing = client.get(LIST_URL).content.decode()
    assert elsewhere.full_name in listing and "Acude a pedir ayuda de alquiler" in listing
    create = (
        reverse("coordination:referral_create", args=[elsewhere.pk]) + f"?vinculacion={link.pk}"
    )
    assert create in listing.replace("&amp;", "&")
    form_page = client.get(create).content.decode()
    assert "Responde a la solicitud de vinculación de CEAS Valladolid Centro" in form_page
    receivers = form_page[form_page.index('name="to_organisation"') :]
    receivers = receivers[: receivers.index("</select>")]
    assert f'value="{social_services_centre.pk}"' in receivers
    assert receivers.count("<option value=") == 2  # the empty choice and the requester

    response = client.post(
        create,
        {
            "to_organisation": social_services_centre.pk,
            "reason": "Ayuda de alquiler",
            "categories": ["demanda_empleo"],
            "purpose": Purpose.REFERRAL,
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    link.refresh_from_db()
    assert (link.state, link.referral, link.answered_by_organisation) == (
        LinkRequest.State.REFERRED,
        referral,
        employment_office,
    )
    assert (referral.from_organisation, referral.to_organisation) == (
        employment_office,
        social_services_centre,
    )
    assert client.get(LIST_URL).content.decode().count(elsewhere.full_name) == 0
    requester = client_for(social_worker).get(LIST_URL).content.decode()
    assert reverse("coordination:referral_detail", args=[referral.pk]) in requester


def test_a_referral_in_answer_goes_only_to_the_requester(
    link, elsewhere, ngo, employment_counsellor, viewer_of
):
    give_consent(elsewhere, organisations=[ngo], purposes=[Purpose.REFERRAL])
    with pytest.raises(ValidationError) as refused:
        services.referral_send(
            viewer=viewer_of(employment_counsellor),
            person_id=elsewhere.pk,
            to_organisation_id=ngo.pk,
            reason="Otra",
            categories=["demanda_empleo"],
            link_request_id=link.pk,
        )
    assert "derive a la organización que la hizo" in " ".join(refused.value.messages)
    assert not Referral.objects.exists()


def test_declining_tells_the_requester_why_but_not_who_attends_the_person(
    link, elsewhere, employment_office, employment_counsellor, social_worker, client_for
):
    client = client_for(employment_counsellor)
    url = reverse("coordination:link_request_decline", args=[link.pk])
    client.post(url, {"decline_reason": ""})
    link.refresh_from_db()
    assert link.state == LinkRequest.State.PENDING
    assert (
        client.post(url, {"decline_reason": "La persona no da su consentimiento"}).status_code
        == 302
    )
    link.refresh_from_db()
    assert link.state == LinkRequest.State.DECLINED
    listing = client_for(social_worker).get(LIST_URL).content.decode()
    assert "No atendida: La persona no da su consentimiento" in listing
    for secret in secrets_of(elsewhere, employment_office):
        assert secret not in listing


@pytest.mark.parametrize("persona", ["stranger", "social_worker"])
def test_an_organisation_that_does_not_attend_the_person_neither_sees_nor_answers_it(
    persona, link, elsewhere, client_for, request
):
    """Another centre, and the requester itself."""
    client = client_for(request.getfixturevalue(persona))
    assert elsewhere.last_name_1 not in client.get(LIST_URL).content.decode()
    url = reverse("coordination:link_request_decline", args=[link.pk])
    assert client.post(url, {"decline_reason": "No"}).status_code == 404
    create = reverse("coordination:referral_create", args=[elsewhere.pk])
    assert client.get(create + f"?vinculacion={link.pk}").status_code == 404
    link.refresh_from_db()
    assert link.state == LinkRequest.State.PENDING
