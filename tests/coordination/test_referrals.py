"""Referrals (derivaciones) between social services, employment and the Third Sector.

A referral moves only along its transition table: sent → accepted / rejected (with a
reason) / cancelled (by the sender); accepted → completed. Each transition records when
and who. Sending needs the sender to attend the person and a consent in force that grants
the receiver (organisation or service kind) the purpose "derivación" for every category
listed. Only the receiving organisation accepts, rejects or completes; accepting opens its
enrolment (origin "referral") and makes the accepting user its reference professional, so
that the receiver can open the record afterwards and not before. Both sides see the
state; everybody else gets a 404.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.models import ReferenceProfessional
from consent.purposes import Purpose
from coordination import services
from coordination.models import Referral
from coordination.selectors import consent_covers, pending_referrals_for, referral_counts_for
from ris.accounts.models import ServiceKind
from sharing.caseload import organisation_attends
from sharing.models import DisclosureLogEntry, Enrolment

from .builders import make_referral

pytestmark = pytest.mark.django_db

S = Referral.State
A = Referral.Action
ALLOWED = {
    (S.SENT, A.ACCEPT): S.ACCEPTED,
    (S.SENT, A.REJECT): S.REJECTED,
    (S.SENT, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, A.COMPLETE): S.COMPLETED,
}
ALL_PAIRS = list(itertools.product(S.values, A.values))


def do(action: str, viewer, referral: Referral):
    if action == A.ACCEPT:
        return services.referral_accept(viewer=viewer, referral_id=referral.pk)
    if action == A.REJECT:
        return services.referral_reject(
            viewer=viewer, referral_id=referral.pk, reason="No hay plazas"
        )
    if action == A.COMPLETE:
        return services.referral_complete(
            viewer=viewer, referral_id=referral.pk, note="Itinerario terminado"
        )
    return services.referral_cancel(viewer=viewer, referral_id=referral.pk)


@pytest.fixture
def covered(person, employment_office, consent):
    """Ana's person, with a consent letting the employment office see everything for a referral."""
    consent(person, organisations=[employment_office], purposes=[Purpose.REFERRAL])
    return person


def send(viewer, person, receiver, **kwargs):
    kwargs.setdefault("reason", "Necesita orientación laboral")
    kwargs.setdefault("categories", ["exclusion_social", "competencias"])
    return services.referral_send(
        viewer=viewer, person_id=person.pk, to_organisation_id=receiver.pk, **kwargs
    )


# --- The state machine ----------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_transition_is_allowed_or_refused_by_the_table(
    state,
    action,
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    viewer_of,
):
    referral = make_referral(
        covered,
        social_services_centre,
        employment_office,
        social_worker,
        state=state,
        categories=["exclusion_social"],
    )
    actor = social_worker if Referral.SIDE[action] == "sender" else employment_counsellor
    if (state, action) in ALLOWED:
        done = do(action, viewer_of(actor), referral)
        referral.refresh_from_db()
        assert referral.state == ALLOWED[(state, action)] == done.state
        stamp = {
            A.ACCEPT: "accepted",
            A.REJECT: "rejected",
            A.COMPLETE: "completed",
            A.CANCEL: "cancelled",
        }[action]
        assert getattr(referral, f"{stamp}_at") is not None
        assert getattr(referral, f"{stamp}_by") == actor
    else:
        with pytest.raises(ValidationError) as refused:
            do(action, viewer_of(actor), referral)
        assert "No se puede" in refused.value.messages[0]
        referral.refresh_from_db()
        assert referral.state == state


def test_the_table_has_exactly_the_documented_transitions():
    table = {(s, a): n for s, actions in Referral.TRANSITIONS.items() for a, n in actions.items()}
    assert table == ALLOWED


@pytest.mark.parametrize("action", [A.ACCEPT, A.REJECT, A.COMPLETE])
def test_only_the_receiver_accepts_rejects_and_completes(
    action,
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    viewer_of,
):
    state = S.ACCEPTED if action == A.COMPLETE else S.SENT
    referral = make_referral(
        covered, social_services_centre, employment_office, social_worker, state=state
    )
    with pytest.raises(PermissionDenied):
        do(action, viewer_of(social_worker), referral)
    referral.refresh_from_db()
    assert referral.state == state


def test_only_the_sender_cancels(
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    viewer_of,
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    with pytest.raises(PermissionDenied):
        do(A.CANCEL, viewer_of(employment_counsellor), referral)
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


@pytest.mark.parametrize("action", list(A.values))
def test_an_outside_organisation_can_take_no_action(
    action, covered, social_services_centre, employment_office, social_worker, stranger, viewer_of
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    with pytest.raises(PermissionDenied):
        do(action, viewer_of(stranger), referral)


def test_a_rejection_needs_a_reason(
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    viewer_of,
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    with pytest.raises(ValidationError) as refused:
        services.referral_reject(
            viewer=viewer_of(employment_counsellor), referral_id=referral.pk, reason="  "
        )
    assert "motivo del rechazo" in str(refused.value)
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


# --- Sending needs a covering consent -------------------------------------------------------------


def test_a_referral_is_sent_with_a_consent_that_covers_the_receiver(
    covered,
    employment_office,
    social_worker,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    assert referral.state == S.SENT
    assert referral.sent_at is not None and referral.sent_by == social_worker
    assert referral.consent_ids == list(covered.consents.values_list("id", flat=True))


def test_a_consent_to_the_receivers_service_kind_is_enough(
    person, employment_office, social_worker, consent, viewer_of
):
    consent(person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.REFERRAL])
    assert send(viewer_of(social_worker), person, employment_office).state == S.SENT


@pytest.mark.parametrize(
    ("situation", "consent_kwargs", "message"),
    [
        ("no_consent", None, "No consta un consentimiento vigente"),
        (
            "consent_of_another_organisation",
            {"organisations": "ngo", "purposes": [Purpose.REFERRAL]},
            "No consta un consentimiento vigente",
        ),
        (
            "consent_of_another_service_kind",
            {"services": [ServiceKind.THIRD_SECTOR], "purposes": [Purpose.REFERRAL]},
            "No consta un consentimiento vigente",
        ),
        (
            "wrong_purpose",
            {"organisations": "employment_office", "purposes": [Purpose.ASSESSMENT]},
            "No consta un consentimiento vigente",
        ),
        (
            "category_denied",
            {
                "organisations": "employment_office",
                "purposes": [Purpose.REFERRAL],
                "denied": ["competencias"],
            },
            "«Competencias y habilidades prelaborales»",
        ),
        (
            "category_not_permitted",
            {
                "organisations": "employment_office",
                "purposes": [Purpose.REFERRAL],
                "categories": ["exclusion_social"],
            },
            "«Competencias y habilidades prelaborales»",
        ),
        (
            "revoked",
            {"organisations": "employment_office", "purposes": [Purpose.REFERRAL], "revoked": True},
            "No consta un consentimiento vigente",
        ),
    ],
)
def test_a_referral_cannot_be_sent_without_a_covering_consent(
    situation,
    consent_kwargs,
    message,
    person,
    employment_office,
    ngo,
    social_worker,
    consent,
    viewer_of,
    request,
):
    if consent_kwargs is not None:
        kwargs = dict(consent_kwargs)
        if "organisations" in kwargs:
            kwargs["organisations"] = [request.getfixturevalue(kwargs["organisations"])]
        consent(person, **kwargs)
    with pytest.raises(ValidationError) as refused:
        send(viewer_of(social_worker), person, employment_office)
    assert message in refused.value.messages[0]
    assert not Referral.objects.exists()


def test_the_refusal_is_shown_in_spanish_on_the_form_and_the_input_is_kept(
    person,
    employment_office,
    social_worker,
    client_for,
):
    response = client_for(social_worker).post(
        reverse("coordination:referral_create", args=[person.pk]),
        {
            "to_organisation": employment_office.pk,
            "reason": "Necesita orientación laboral",
            "categories": ["exclusion_social"],
            "purpose": Purpose.REFERRAL,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "No consta un consentimiento vigente de la persona que autorice a Oficina de Empleo" in html
    )
    assert "Necesita orientación laboral" in html
    assert not Referral.objects.exists()


def test_a_referral_with_another_purpose_needs_that_purpose_too(
    person, employment_office, social_worker, consent, viewer_of
):
    consent(person, organisations=[employment_office], purposes=[Purpose.REFERRAL])
    with pytest.raises(ValidationError) as refused:
        send(viewer_of(social_worker), person, employment_office, purpose=Purpose.ITINERARY)
    assert "«Itinerario»" in refused.value.messages[0]


def test_the_sender_must_attend_the_person(
    person, employment_office, stranger, consent, viewer_of, client_for
):
    consent(person, organisations=[employment_office])
    with pytest.raises(PermissionDenied):
        send(viewer_of(stranger), person, employment_office)
    assert (
        client_for(stranger)
        .get(reverse("coordination:referral_create", args=[person.pk]))
        .status_code
        == 404
    )


def test_a_second_pending_referral_to_the_same_receiver_is_refused(
    covered, employment_office, social_worker, viewer_of
):
    send(viewer_of(social_worker), covered, employment_office)
    with pytest.raises(ValidationError) as refused:
        send(viewer_of(social_worker), covered, employment_office)
    assert "Ya hay una derivación pendiente" in refused.value.messages[0]


def test_consent_covers_reads_consents_in_force(person, employment_office, ngo, consent):
    consent(
        person, organisations=[employment_office], categories=["salud"], purposes=[Purpose.REFERRAL]
    )
    assert consent_covers(
        person_id=person.pk,
        organisation=employment_office,
        categories=["salud"],
        purpose=Purpose.REFERRAL,
    )
    assert not consent_covers(
        person_id=person.pk,
        organisation=employment_office,
        categories=["salud", "motivacion"],
        purpose=Purpose.REFERRAL,
    )
    assert not consent_covers(
        person_id=person.pk, organisation=ngo, categories=["salud"], purpose=Purpose.REFERRAL
    )
    assert not consent_covers(
        person_id=person.pk,
        organisation=employment_office,
        categories=["salud"],
        purpose=Purpose.ITINERARY,
    )


# --- Accepting grants the caseload ----------------------------------------------------------------


def test_accepting_lets_the_receiver_open_the_record_and_not_before(
    covered,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    receiver = client_for(employment_counsellor)
    record_url = reverse("workspace:person_record", args=[covered.pk])
    assert receiver.get(record_url).status_code == 404

    response = receiver.post(reverse("coordination:referral_accept", args=[referral.pk]))
    assert response.status_code == 302

    assert receiver.get(record_url).status_code == 200
    assert organisation_attends(employment_office.pk, covered.pk)
    enrolment = Enrolment.objects.get(person=covered, organisation=employment_office)
    assert enrolment.origin == Enrolment.Origin.REFERRAL
    assert enrolment.created_by == employment_counsellor
    assert (
        ReferenceProfessional.objects.get(
            person=covered, organisation=employment_office
        ).professional
        == employment_counsellor
    )


def test_a_refused_acceptance_grants_nothing(
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    viewer_of,
):
    referral = make_referral(
        covered, social_services_centre, employment_office, social_worker, state=S.REJECTED
    )
    with pytest.raises(ValidationError):
        services.referral_accept(viewer=viewer_of(employment_counsellor), referral_id=referral.pk)
    assert not organisation_attends(employment_office.pk, covered.pk)
    assert not Enrolment.objects.filter(organisation=employment_office).exists()


def test_a_referral_cannot_be_accepted_once_the_consent_is_revoked(
    covered,
    employment_office,
    social_worker,
    employment_counsellor,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    from tests.factories import ConsentRevocationFactory

    ConsentRevocationFactory(consent=covered.consents.get(), revoked_by=social_worker)
    with pytest.raises(ValidationError) as refused:
        services.referral_accept(viewer=viewer_of(employment_counsellor), referral_id=referral.pk)
    assert "ya no está en vigor" in refused.value.messages[0]
    assert not organisation_attends(employment_office.pk, covered.pk)


def test_the_sender_posting_accept_gets_a_404(
    covered, social_services_centre, employment_office, social_worker, client_for
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    response = client_for(social_worker).post(
        reverse("coordination:referral_accept", args=[referral.pk])
    )
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


# --- Rejecting, and both sides see the state ------------------------------------------------------


def test_rejecting_with_a_reason_is_seen_by_both_sides(
    covered,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    receiver = client_for(employment_counsellor)
    url = reverse("coordination:referral_reject", args=[referral.pk])

    response = receiver.post(url, {"rejection_reason": ""})
    assert response.status_code == 200
    assert "Indique el motivo del rechazo." in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).state == S.SENT

    assert (
        receiver.post(url, {"rejection_reason": "No hay plazas en el programa"}).status_code == 302
    )
    referral.refresh_from_db()
    assert referral.state == S.REJECTED
    assert referral.rejection_reason == "No hay plazas en el programa"
    assert not organisation_attends(employment_office.pk, covered.pk)

    detail = reverse("coordination:referral_detail", args=[referral.pk])
    for user in (social_worker, employment_counsellor):
        html = client_for(user).get(detail).content.decode()
        assert "Rechazada" in html
        assert "No hay plazas en el programa" in html


@pytest.mark.parametrize("state", S.values)
def test_both_sides_see_the_state(
    state,
    covered,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
):
    referral = make_referral(
        covered, social_services_centre, employment_office, social_worker, state=state
    )
    label = Referral.State(state).label
    for user in (social_worker, employment_counsellor):
        response = client_for(user).get(reverse("coordination:referral_detail", args=[referral.pk]))
        assert response.status_code == 200
        assert f"· {label}</h1>" in response.content.decode()
        lst = client_for(user).get(reverse("coordination:referral_list")).content.decode()
        assert reverse("coordination:referral_detail", args=[referral.pk]) in lst


@pytest.mark.parametrize("persona", ["stranger", "ngo_technician", "outsider", "evaluator", "dpo"])
def test_outsiders_get_a_404(
    persona, covered, social_services_centre, employment_office, social_worker, client_for, request
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    client = client_for(request.getfixturevalue(persona))
    for name in (
        "referral_detail",
        "referral_accept",
        "referral_reject",
        "referral_complete",
        "referral_cancel",
    ):
        url = reverse(f"coordination:{name}", args=[referral.pk])
        response = client.post(url) if name != "referral_detail" else client.get(url)
        assert response.status_code == 404, name
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


def test_a_missing_referral_is_a_404_like_anothers(social_worker, client_for):
    assert (
        client_for(social_worker)
        .get(reverse("coordination:referral_detail", args=[999999]))
        .status_code
        == 404
    )


# --- What the receiver sees of the person before accepting ----------------------------------------


def test_before_accepting_the_receiver_sees_the_name_in_the_detail_only_and_it_is_logged(
    covered,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    client = client_for(employment_counsellor)
    listing = client.get(reverse("coordination:referral_list")).content.decode()
    assert covered.last_name_1 not in listing
    assert "Persona aún no atendida por su organización" in listing

    detail = client.get(
        reverse("coordination:referral_detail", args=[referral.pk])
    ).content.decode()
    assert covered.full_name in detail
    line = DisclosureLogEntry.objects.get(person=covered, organisation=employment_office)
    assert (line.event, line.category, line.purpose) == (
        "disclosure",
        "ficha_basica",
        Purpose.REFERRAL,
    )
    assert line.basis == f"consent:{covered.consents.get().pk}"


def test_after_a_revocation_the_pending_referral_no_longer_shows_the_person(
    covered,
    employment_office,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    referral = send(viewer_of(social_worker), covered, employment_office)
    from tests.factories import ConsentRevocationFactory

    ConsentRevocationFactory(consent=covered.consents.get(), revoked_by=social_worker)
    html = (
        client_for(employment_counsellor)
        .get(reverse("coordination:referral_detail", args=[referral.pk]))
        .content.decode()
    )
    assert covered.last_name_1 not in html
    assert "ya no tiene en vigor el consentimiento" in html


def test_the_sender_sees_the_person_it_attends(
    covered, social_services_centre, employment_office, social_worker, client_for
):
    referral = make_referral(covered, social_services_centre, employment_office, social_worker)
    html = (
        client_for(social_worker)
        .get(reverse("coordination:referral_detail", args=[referral.pk]))
        .content.decode()
    )
    assert covered.full_name in html
    assert not DisclosureLogEntry.objects.exists()


# --- Start page selectors -------------------------------------------------------------------------


def test_pending_referrals_and_counts_for_the_start_page(
    covered,
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
):
    older = make_referral(covered, social_services_centre, employment_office, social_worker)
    make_referral(covered, social_services_centre, ngo, social_worker)
    make_referral(
        covered, social_services_centre, employment_office, social_worker, state=S.ACCEPTED
    )
    make_referral(
        covered, social_services_centre, employment_office, social_worker, state=S.REJECTED
    )
    make_referral(covered, employment_office, social_services_centre, social_worker)

    assert list(pending_referrals_for(organisation_id=employment_office.pk)) == [older]
    assert referral_counts_for(organisation_id=employment_office.pk) == {
        "received_pending": 1,
        "received_accepted": 1,
        "sent_pending": 1,
        "sent_accepted": 0,
        "sent_rejected": 0,
    }
    assert referral_counts_for(organisation_id=social_services_centre.pk) == {
        "received_pending": 1,
        "received_accepted": 0,
        "sent_pending": 2,
        "sent_accepted": 1,
        "sent_rejected": 1,
    }


def test_the_list_filters_by_box_and_state(
    covered, social_services_centre, employment_office, social_worker, client_for
):
    sent = make_referral(covered, social_services_centre, employment_office, social_worker)
    received = make_referral(
        covered, employment_office, social_services_centre, social_worker, state=S.REJECTED
    )
    client = client_for(social_worker)

    def ids(**params):
        response = client.get(reverse("coordination:referral_list"), params)
        return {r.pk for r in response.context["page"].object_list}

    assert ids() == {sent.pk, received.pk}
    assert ids(bandeja="sent") == {sent.pk}
    assert ids(bandeja="received") == {received.pk}
    assert ids(estado="rejected") == {received.pk}
    assert ids(bandeja="sent", estado="rejected") == set()


# --- What the categories of a referral mean ------------------------------------------------------

CATEGORIES_LABEL = "Categorías que se envían con la derivación"


def test_the_form_and_the_detail_say_the_categories_scope_the_referral_not_the_record(
    covered, employment_office, social_worker, employment_counsellor, client_for, viewer_of
):
    form = client_for(social_worker).get(
        reverse("coordination:referral_create", args=[covered.pk])
    ).content.decode()
    assert CATEGORIES_LABEL in form and "Categorías que verá la organización receptora" not in form
    assert "ve de su historia lo que le permita el consentimiento de la persona" in form
    referral = send(viewer_of(social_worker), covered, employment_office)
    for user in (social_worker, employment_counsellor):
        detail = client_for(user).get(
            reverse("coordination:referral_detail", args=[referral.pk])
        ).content.decode()
        assert CATEGORIES_LABEL in detail
        assert "no solo estas categorías" in detail


def test_once_accepted_the_receiver_sees_what_the_consent_allows_beyond_the_referrals_categories(
    covered, social_services_centre, employment_office, social_worker, employment_counsellor,
    consent, client_for, viewer_of,
):
    """What the texts above say is what happens: the record follows the person's consent."""
    from django.utils import timezone

    from cases.models import MotivationAssessment
    from tests.factories import make_section_entry

    make_section_entry(MotivationAssessment, person=covered, organisation=social_services_centre,
                       recorded_by=social_worker, assessed_on=timezone.localdate(),
                       motivation_level="high", emotional_factors="FUERA-DE-LA-DERIVACION")
    consent(covered, organisations=[employment_office], purposes=[Purpose.FOLLOW_UP])
    referral = send(viewer_of(social_worker), covered, employment_office,
                    categories=["exclusion_social"])
    receiver = client_for(employment_counsellor)
    record_url = reverse("workspace:person_record", args=[covered.pk])
    assert receiver.get(record_url, {"finalidad": Purpose.FOLLOW_UP}).status_code == 404
    services.referral_accept(viewer=viewer_of(employment_counsellor), referral_id=referral.pk)
    record = receiver.get(record_url, {"finalidad": Purpose.FOLLOW_UP}).content.decode()
    assert "motivacion" not in referral.categories
    assert "FUERA-DE-LA-DERIVACION" in record
