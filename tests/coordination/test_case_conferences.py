"""Case conferences (comisiones de inclusión social / técnicas).

The conference is seen by its attendees and by the convening organisation. Each attendee
sees of each case only what sharing gives their organisation for the purpose "comisión"
(the summary is the filtered record); a person the attendee's organisation does not attend
appears only as "caso presentado por <organisation>", with no name and no data. An
agreement about a case can become an action of the person's joint plan.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import ExclusionSituation
from consent.purposes import Purpose
from coordination import services
from coordination.models import CaseConference, ConferenceCase, PlanAction
from ris.accounts.models import ServiceKind
from sharing.models import DisclosureLogEntry
from tests.factories import make_section_entry

from .builders import add_agreement, add_case, make_conference, make_plan

pytestmark = pytest.mark.django_db

SECRET = "Necesidad de vivienda urgente por desahucio"
PRESENTED_BY = "Caso presentado por CEAS Valladolid Centro"


@pytest.fixture
def conference(social_services_centre, employment_office, social_worker, employment_counsellor):
    return make_conference(
        social_services_centre,
        social_worker,
        attendees=[(employment_counsellor, employment_office)],
    )


@pytest.fixture
def shared_case(conference, shared_person, social_services_centre, social_worker):
    make_section_entry(
        ExclusionSituation,
        person=shared_person,
        organisation=social_services_centre,
        need_assessment=SECRET,
    )
    return add_case(conference, shared_person, social_services_centre, social_worker)


@pytest.fixture
def unshared_case(conference, person, social_services_centre, social_worker):
    return add_case(conference, person, social_services_centre, social_worker)


def summary(client, case, **headers):
    return client.get(
        reverse("coordination:conference_case", args=[case.conference_id, case.pk]), **headers
    )


def test_an_attendee_sees_a_case_it_attends_as_sharing_allows_for_the_conference(
    shared_case,
    shared_person,
    employment_counsellor,
    employment_office,
    consent,
    client_for,
):
    given = consent(
        shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE]
    )
    response = summary(client_for(employment_counsellor), shared_case)
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET in html
    assert shared_person.full_name in html
    assert DisclosureLogEntry.objects.filter(
        person=shared_person,
        organisation=employment_office,
        event="disclosure",
        category="exclusion_social",
        purpose=Purpose.CASE_CONFERENCE,
        basis=f"consent:{given.pk}",
    ).exists()


def test_without_a_consent_for_the_conference_the_other_services_data_is_not_shown(
    shared_case,
    shared_person,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    html = summary(client_for(employment_counsellor), shared_case).content.decode()
    assert SECRET not in html
    assert (
        shared_person.full_name in html
    )  # the basic sheet: the employment office attends the person


def assessment_of(person, organisation, notes):
    from diagnostics.models import ExclusionAssessment, Instrument

    return make_section_entry(
        ExclusionAssessment, person=person, organisation=organisation,
        instrument=Instrument.objects.order_by("pk").first(), assessed_on=timezone.localdate(),
        total_score="12.00", level="severe", notes=notes,
    )


@pytest.mark.parametrize("purposes, shown", [
    ([Purpose.CASE_CONFERENCE], True),
    ([Purpose.ITINERARY], False),  # a consent for another purpose opens nothing here
])
def test_the_summary_carries_the_exclusion_assessment_as_sharing_allows(
    purposes, shown, shared_case, shared_person, social_services_centre, employment_counsellor,
    consent, client_for,
):
    assessment_of(shared_person, social_services_centre, "VALORACION-COMISION")
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=purposes)
    html = summary(client_for(employment_counsellor), shared_case).content.decode()
    assert ("VALORACION-COMISION" in html) is shown
    logged = DisclosureLogEntry.objects.filter(
        person=shared_person, event="disclosure", category="exclusion_social",
        purpose=Purpose.CASE_CONFERENCE,
    ).exists()
    assert logged is shown


def test_a_person_the_attendee_does_not_attend_is_only_a_case_presented_by(
    shared_case,
    unshared_case,
    person,
    employment_counsellor,
    consent,
    client_for,
):
    consent(person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE])
    add_agreement(
        unshared_case,
        unshared_case.presented_by_organisation,
        unshared_case.presented_by,
        text="Solicitar plaza en el albergue",
    )
    client = client_for(employment_counsellor)
    detail = client.get(
        reverse("coordination:conference_detail", args=[unshared_case.conference_id])
    )
    html = detail.content.decode()
    assert detail.status_code == 200
    assert PRESENTED_BY in html
    assert person.last_name_1 not in html and "Solicitar plaza en el albergue" not in html
    assert (
        reverse(
            "coordination:conference_case", args=[unshared_case.conference_id, unshared_case.pk]
        )
        not in html
    )

    response = summary(client, unshared_case)
    assert response.status_code == 200
    body = response.content.decode()
    assert PRESENTED_BY in body
    assert person.last_name_1 not in body and person.document_number not in body
    assert not DisclosureLogEntry.objects.filter(person=person).exists()


def test_the_convening_social_worker_sees_both_cases(
    shared_case, unshared_case, person, shared_person, social_worker, client_for
):
    html = (
        client_for(social_worker)
        .get(reverse("coordination:conference_detail", args=[shared_case.conference_id]))
        .content.decode()
    )
    assert person.full_name in html and shared_person.full_name in html
    assert SECRET in summary(client_for(social_worker), shared_case).content.decode()


def test_the_summary_is_an_htmx_partial_when_asked_by_htmx(shared_case, social_worker, client_for):
    response = summary(client_for(social_worker), shared_case, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and SECRET in html


@pytest.mark.parametrize("persona", ["stranger", "ngo_technician", "outsider", "evaluator"])
def test_non_attendees_get_a_404(persona, shared_case, client_for, request):
    client = client_for(request.getfixturevalue(persona))
    conference_id = shared_case.conference_id
    assert (
        client.get(reverse("coordination:conference_detail", args=[conference_id])).status_code
        == 404
    )
    assert summary(client, shared_case).status_code == 404
    assert (
        client.get(reverse("coordination:conference_case_add", args=[conference_id])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("coordination:agreement_create", args=[shared_case.pk]), {"text": "x"}
        ).status_code
        == 404
    )
    listing = client.get(reverse("coordination:conference_list"))
    assert listing.status_code == 404 or list(listing.context["page"].object_list) == []


def test_a_case_of_another_conference_is_a_404(
    shared_case, social_services_centre, social_worker, client_for
):
    other = make_conference(social_services_centre, social_worker)
    url = reverse("coordination:conference_case", args=[other.pk, shared_case.pk])
    assert client_for(social_worker).get(url).status_code == 404


# --- Creating, adding cases and agreements --------------------------------------------------------


def test_a_conference_is_created_with_its_attendees(
    social_worker, social_services_centre, employment_counsellor, employment_office, client_for
):
    membership = employment_counsellor.memberships.get()
    response = client_for(social_worker).post(
        reverse("coordination:conference_create"),
        {
            "kind": CaseConference.Kind.SOCIAL_INCLUSION,
            "title": "Comisión de inclusión de marzo",
            "date": "15/03/2025",
            "community": "07",
            "territory": "Valladolid capital",
            "attendees": [membership.pk],
        },
    )
    conference = CaseConference.objects.get()
    assert response.status_code == 302
    assert set(conference.attendees.values_list("user_id", "organisation_id")) == {
        (social_worker.pk, social_services_centre.pk),
        (employment_counsellor.pk, employment_office.pk),
    }
    assert client_for(employment_counsellor).get(conference.get_absolute_url()).status_code == 200


def test_an_attendee_presents_only_persons_its_organisation_attends(
    conference, person, shared_person, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    url = reverse("coordination:conference_case_add", args=[conference.pk])
    response = client.post(url, {"document_number": person.document_number})
    assert (
        "No hay ninguna persona con ese documento entre las que atiende su organización."
        in response.content.decode()
    )
    assert not ConferenceCase.objects.exists()
    assert (
        client.post(url, {"document_number": shared_person.document_number.lower()}).status_code
        == 302
    )
    case = ConferenceCase.objects.get()
    assert (case.person, case.presented_by) == (shared_person, employment_counsellor)
    response = client.post(url, {"document_number": shared_person.document_number})
    assert "Este caso ya está en la comisión." in response.content.decode()


def test_a_case_is_presented_from_the_record_even_without_a_document(
    conference, social_services_centre, social_worker, client_for
):
    from cases.models import Person
    from tests.factories import PersonFactory, enrol

    undocumented = PersonFactory(
        document_type=Person.DocumentType.NONE,
        document_number="",
        no_document_reason=Person.NoDocumentReason.UNDOCUMENTED,
    )
    enrol(undocumented, social_services_centre)
    client = client_for(social_worker)
    url = reverse("coordination:conference_case_add", args=[conference.pk])
    page = client.get(url, {"persona": undocumented.pk}).content.decode()
    assert undocumented.full_name in page
    assert f'name="persona" value="{undocumented.pk}"' in page
    assert (
        client.post(url + f"?persona={undocumented.pk}", {"persona": undocumented.pk}).status_code
        == 302
    )
    assert ConferenceCase.objects.get().person == undocumented


def test_a_person_outside_the_caseload_cannot_be_presented_by_id(
    conference, person, employment_counsellor, client_for
):
    response = client_for(employment_counsellor).post(
        reverse("coordination:conference_case_add", args=[conference.pk]), {"persona": person.pk}
    )
    assert response.status_code == 200
    assert person.last_name_1 not in response.content.decode()
    assert not ConferenceCase.objects.exists()


def test_an_agreement_is_recorded_only_on_a_case_the_organisation_attends(
    shared_case,
    unshared_case,
    employment_counsellor,
    client_for,
):
    client = client_for(employment_counsellor)
    assert (
        client.post(
            reverse("coordination:agreement_create", args=[unshared_case.pk]), {"text": "Algo"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("coordination:agreement_create", args=[shared_case.pk]),
            {"text": "Inscribir en el taller de empleo", "category": "itinerario_empleo"},
        ).status_code
        == 302
    )
    agreement = shared_case.agreements.get()
    assert (agreement.text, agreement.category, agreement.recorded_by_service) == (
        "Inscribir en el taller de empleo",
        "itinerario_empleo",
        ServiceKind.EMPLOYMENT,
    )


def test_an_agreement_becomes_an_action_of_the_persons_plan(
    shared_case,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    agreement = add_agreement(
        shared_case,
        employment_office,
        employment_counsellor,
        text="Inscribir en el taller de empleo",
        category="itinerario_empleo",
    )
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    client = client_for(employment_counsellor)
    url = reverse("coordination:agreement_to_action", args=[agreement.pk])
    form = {
        "plan": plan.pk,
        "action_type": PlanAction.Type.TRAINING,
        "start_date": timezone.localdate().strftime("%d/%m/%Y"),
    }
    response = client.post(url, form)
    assert response.status_code == 302
    assert response.url == reverse("coordination:plan_detail", args=[plan.pk])
    action = plan.actions.get()
    assert (action.description, action.owner_organisation, action.category) == (
        "Inscribir en el taller de empleo",
        employment_office,
        "itinerario_empleo",
    )
    agreement.refresh_from_db()
    assert agreement.plan_action == action

    response = client.post(url, form)
    assert "Este acuerdo ya es una acción del itinerario." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.agreement_to_action(
            viewer=viewer_of(employment_counsellor),
            agreement_id=agreement.pk,
            plan_id=plan.pk,
            action_type="otra",
            start_date=timezone.localdate(),
        )
    assert "ya se convirtió" in refused.value.messages[0]
    assert plan.actions.count() == 1


def test_an_agreement_cannot_become_an_action_of_another_persons_plan(
    shared_case,
    person,
    social_services_centre,
    social_worker,
    viewer_of,
):
    agreement = add_agreement(shared_case, social_services_centre, social_worker)
    other_plan = make_plan(person, social_services_centre, social_worker)
    with pytest.raises(ValidationError):
        services.agreement_to_action(
            viewer=viewer_of(social_worker),
            agreement_id=agreement.pk,
            plan_id=other_plan.pk,
            action_type="otra",
            start_date=timezone.localdate(),
        )
    assert not PlanAction.objects.exists()
