"""Information requests without referral (consultas bajo demanda).

Only between two organisations that both attend the person. Only the organisation asked
answers, once. The answer is the answering service's data: the organisation that asked
reads it only when the sharing decision gives it FULL for every category the request
names (consent or legal basis, for the request's purpose, capped by the matrix);
otherwise the page says that an answer exists that it cannot see. Reading it is logged.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consent.purposes import Purpose
from coordination import services
from coordination.models import InformationRequest
from ris.accounts.models import ServiceKind
from sharing.models import DisclosureLogEntry
from tests.factories import ConsentRevocationFactory

from .builders import make_information_request

pytestmark = pytest.mark.django_db

ANSWER = "Participa en el programa de inclusión desde marzo."
HIDDEN_ANSWER = "Hay una respuesta que no puede ver por falta de consentimiento."


@pytest.fixture
def answered(
    shared_person, employment_office, social_services_centre, employment_counsellor, social_worker
):
    """The employment office asked social services about the exclusion assessment; answered."""
    return make_information_request(
        shared_person,
        employment_office,
        social_services_centre,
        employment_counsellor,
        categories=["exclusion_social"],
        answer=ANSWER,
        answered_by=social_worker,
    )


def detail(client, info):
    return client.get(reverse("coordination:request_detail", args=[info.pk]))


def test_without_consent_the_asker_is_told_an_answer_exists_but_not_what(
    answered, employment_counsellor, client_for
):
    html = detail(client_for(employment_counsellor), answered).content.decode()
    assert HIDDEN_ANSWER in html
    assert ANSWER not in html
    assert not DisclosureLogEntry.objects.exists()


def test_with_a_consent_for_the_purpose_the_asker_reads_the_answer_and_it_is_logged(
    answered,
    shared_person,
    employment_counsellor,
    employment_office,
    consent,
    client_for,
):
    given = consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.FOLLOW_UP])
    html = detail(client_for(employment_counsellor), answered).content.decode()
    assert ANSWER in html
    assert HIDDEN_ANSWER not in html
    line = DisclosureLogEntry.objects.get(person=shared_person)
    assert (line.event, line.organisation_id, line.category, line.level, line.basis) == (
        "disclosure",
        employment_office.pk,
        "exclusion_social",
        "full",
        f"consent:{given.pk}",
    )


@pytest.mark.parametrize(
    "consent_kwargs",
    [
        {"services": [ServiceKind.EMPLOYMENT], "purposes": [Purpose.REFERRAL]},  # another purpose
        {
            "services": [ServiceKind.THIRD_SECTOR],
            "purposes": [Purpose.FOLLOW_UP],
        },  # another service kind
        {
            "services": [ServiceKind.EMPLOYMENT],
            "purposes": [Purpose.FOLLOW_UP],
            "denied": ["exclusion_social"],
        },
        {"services": [ServiceKind.EMPLOYMENT], "purposes": [Purpose.FOLLOW_UP], "revoked": True},
    ],
    ids=["wrong_purpose", "other_service", "category_denied", "revoked"],
)
def test_a_consent_that_does_not_cover_the_request_hides_the_answer(
    consent_kwargs,
    answered,
    shared_person,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, **consent_kwargs)
    html = detail(client_for(employment_counsellor), answered).content.decode()
    assert HIDDEN_ANSWER in html
    assert ANSWER not in html


def test_every_named_category_must_be_full(
    shared_person,
    employment_office,
    social_services_centre,
    employment_counsellor,
    social_worker,
    consent,
    client_for,
):
    """The employment counsellor's matrix caps family situation at an indicator: never FULL."""
    info = make_information_request(
        shared_person,
        employment_office,
        social_services_centre,
        employment_counsellor,
        categories=["exclusion_social", "situacion_familiar"],
        answer=ANSWER,
        answered_by=social_worker,
    )
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.FOLLOW_UP])
    html = detail(client_for(employment_counsellor), info).content.decode()
    assert HIDDEN_ANSWER in html
    assert ANSWER not in html


def test_a_revocation_hides_the_answer_on_the_next_request(
    answered, shared_person, employment_counsellor, consent, social_worker, client_for
):
    given = consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.FOLLOW_UP])
    client = client_for(employment_counsellor)
    assert ANSWER in detail(client, answered).content.decode()
    ConsentRevocationFactory(consent=given, revoked_by=social_worker)
    assert ANSWER not in detail(client, answered).content.decode()


def test_the_organisation_that_answered_always_reads_its_answer(
    answered, social_worker, client_for
):
    assert ANSWER in detail(client_for(social_worker), answered).content.decode()


# --- Creating and answering -----------------------------------------------------------------------


def test_a_request_is_made_to_an_organisation_that_also_attends_the_person(
    shared_person,
    social_services_centre,
    employment_counsellor,
    client_for,
):
    client = client_for(employment_counsellor)
    url = reverse("coordination:request_create", args=[shared_person.pk])
    response = client.post(
        url,
        {
            "to_organisation": social_services_centre.pk,
            "question": "¿Tiene renta mínima?",
            "categories": ["rentas_minimas"],
            "purpose": Purpose.FOLLOW_UP,
        },
    )
    info = InformationRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("coordination:request_detail", args=[info.pk])
    assert (info.to_organisation, info.categories, info.asked_by) == (
        social_services_centre,
        ["rentas_minimas"],
        employment_counsellor,
    )


def test_an_organisation_that_does_not_attend_the_person_cannot_be_asked(
    person,
    ngo,
    social_worker,
    client_for,
    viewer_of,
):
    response = client_for(social_worker).post(
        reverse("coordination:request_create", args=[person.pk]),
        {
            "to_organisation": ngo.pk,
            "question": "¿Participa en algún taller?",
            "categories": ["carpeta_social"],
            "purpose": Purpose.FOLLOW_UP,
        },
    )
    assert response.status_code == 200
    assert "¿Participa en algún taller?" in response.content.decode()
    assert not InformationRequest.objects.exists()
    with pytest.raises(ValidationError) as refused:
        services.information_request_create(
            viewer=viewer_of(social_worker),
            person_id=person.pk,
            to_organisation_id=ngo.pk,
            question="¿?",
            categories=["carpeta_social"],
        )
    assert "también atienda" in str(refused.value)


def test_an_organisation_that_does_not_attend_the_person_cannot_ask(
    person, social_services_centre, stranger, client_for, viewer_of
):
    assert (
        client_for(stranger)
        .get(reverse("coordination:request_create", args=[person.pk]))
        .status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        services.information_request_create(
            viewer=viewer_of(stranger),
            person_id=person.pk,
            to_organisation_id=social_services_centre.pk,
            question="¿?",
            categories=["salud"],
        )


def test_only_the_organisation_asked_answers_and_only_once(
    shared_person,
    employment_office,
    social_services_centre,
    employment_counsellor,
    social_worker,
    client_for,
):
    info = make_information_request(
        shared_person, employment_office, social_services_centre, employment_counsellor
    )
    url = reverse("coordination:request_answer", args=[info.pk])

    assert client_for(employment_counsellor).post(url, {"answer": "Me respondo"}).status_code == 404
    info.refresh_from_db()
    assert not info.is_answered

    answerer = client_for(social_worker)
    response = answerer.post(url, {"answer": ""})
    assert response.status_code == 200 and "Escriba la respuesta." in response.content.decode()
    assert answerer.post(url, {"answer": ANSWER}).status_code == 302
    info.refresh_from_db()
    assert (info.answer, info.answered_by) == (ANSWER, social_worker)
    assert info.answered_at is not None

    response = answerer.post(url, {"answer": "Otra respuesta"})
    assert "ya fue respondida" in response.content.decode()
    info.refresh_from_db()
    assert info.answer == ANSWER


@pytest.mark.parametrize("persona", ["stranger", "ngo_technician", "outsider", "evaluator"])
def test_outsiders_get_a_404(persona, answered, client_for, request):
    client = client_for(request.getfixturevalue(persona))
    assert detail(client, answered).status_code == 404
    assert (
        client.post(
            reverse("coordination:request_answer", args=[answered.pk]), {"answer": "x"}
        ).status_code
        == 404
    )


def test_the_list_shows_only_the_organisations_requests(
    answered, employment_counsellor, stranger, client_for
):
    listing = client_for(employment_counsellor).get(reverse("coordination:request_list"))
    assert [r.pk for r in listing.context["page"].object_list] == [answered.pk]
    assert (
        list(
            client_for(stranger)
            .get(reverse("coordination:request_list"))
            .context["page"]
            .object_list
        )
        == []
    )
