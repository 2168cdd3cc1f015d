"""Joint plans (itinerario conjunto / proyecto individualizado de inserción).

Participants see the plan filtered like the record: each action (and each commitment)
carries a data category and belongs to a service; it is shown in full only when the
viewer's decision for (category, service) with the purpose "itinerario" is FULL, as
"acción en el área X de servicio Y" at INDICATOR, and not at all when HIDDEN. What a page
reveals across services is logged. A service adds actions only in its own areas; only the
owner of an action changes its state; only the organisation that checks a commitment
records its compliance. Plan edits use optimistic locking.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.purposes import Purpose
from coordination import services
from coordination.models import CommitmentCompliance, JointPlan, PlanAction
from coordination.selectors import overdue_plan_reviews
from ris.accounts.models import ServiceKind
from sharing.models import DisclosureLogEntry

from .builders import make_action, make_commitment, make_plan, make_resource

pytestmark = pytest.mark.django_db

# exclusion_social: FULL for employment with consent
FULL_TEXT = "Seguimiento de la valoración de exclusión"
INDICATOR_TEXT = (
    "Mediación familiar por conflicto"  # situacion_familiar: an indicator for employment (matrix)
)
HIDDEN_TEXT = "Medida judicial vigente"  # antecedentes_penales: hidden for employment (matrix)
EMPLOYMENT_TEXT = "Curso de carretillero"
INDICATOR_SENTENCE = "Acción en el área «Situación personal y familiar» de Servicios sociales."


@pytest.fixture
def plan(
    shared_person, social_services_centre, employment_office, social_worker, employment_counsellor
):
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description=FULL_TEXT,
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="situacion_familiar",
        description=INDICATOR_TEXT,
        action_type=PlanAction.Type.SOCIAL_SUPPORT,
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="antecedentes_penales",
        description=HIDDEN_TEXT,
    )
    make_action(
        plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description=EMPLOYMENT_TEXT,
        action_type=PlanAction.Type.TRAINING,
    )
    return plan


def page(client, plan):
    response = client.get(reverse("coordination:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Filtered per viewer --------------------------------------------------------------------------


def test_with_consent_an_employment_counsellor_sees_full_indicator_and_absent_actions(
    plan,
    shared_person,
    employment_counsellor,
    consent,
    client_for,
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    html = page(client_for(employment_counsellor), plan)
    assert FULL_TEXT in html
    assert INDICATOR_TEXT not in html and INDICATOR_SENTENCE in html
    assert "Apoyo social" not in html  # the type of an indicator-only action is not shown either
    assert HIDDEN_TEXT not in html and "Antecedentes penales" not in html
    assert EMPLOYMENT_TEXT in html  # its own service


def test_without_consent_other_services_actions_are_absent(plan, employment_counsellor, client_for):
    html = page(client_for(employment_counsellor), plan)
    for text in (
        FULL_TEXT,
        INDICATOR_TEXT,
        HIDDEN_TEXT,
        INDICATOR_SENTENCE,
        "Situación personal y familiar",
    ):
        assert text not in html
    assert EMPLOYMENT_TEXT in html


def test_a_consent_for_another_purpose_does_not_open_the_plan(
    plan, shared_person, employment_counsellor, consent, client_for
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.REFERRAL])
    assert FULL_TEXT not in page(client_for(employment_counsellor), plan)


def test_the_social_worker_sees_her_own_services_actions_in_full(plan, social_worker, client_for):
    html = page(client_for(social_worker), plan)
    for text in (FULL_TEXT, INDICATOR_TEXT, HIDDEN_TEXT):
        assert text in html
    assert EMPLOYMENT_TEXT not in html  # no consent for employment data to social services


def test_what_the_page_reveals_across_services_is_logged_in_one_request(
    plan,
    shared_person,
    employment_counsellor,
    employment_office,
    consent,
    client_for,
):
    given = consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    page(client_for(employment_counsellor), plan)
    lines = set(
        DisclosureLogEntry.objects.filter(person=shared_person).values_list(
            "event", "organisation_id", "category", "level", "purpose", "basis"
        )
    )
    assert lines == {
        (
            "disclosure",
            employment_office.pk,
            "exclusion_social",
            "full",
            "itinerario",
            f"consent:{given.pk}",
        ),
        (
            "disclosure",
            employment_office.pk,
            "situacion_familiar",
            "indicator",
            "itinerario",
            f"consent:{given.pk}",
        ),
    }


def test_commitments_are_filtered_like_actions(
    plan,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    consent,
    client_for,
):
    make_commitment(
        plan,
        social_services_centre,
        social_worker,
        category="rentas_minimas",
        description="Acudir a las citas de la renta mínima",
    )
    make_commitment(
        plan,
        social_services_centre,
        social_worker,
        category="salud",
        description="Seguir el tratamiento",
    )
    client = client_for(employment_counsellor)
    html = page(client, plan)
    assert "Acudir a las citas" not in html and "Seguir el tratamiento" not in html
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    html = page(client, plan)
    assert "Acudir a las citas de la renta mínima" in html
    assert "Seguir el tratamiento" not in html
    assert "Compromiso en el área «Salud y discapacidad» verificado por Servicios sociales." in html


@pytest.mark.parametrize("persona", ["stranger", "ngo_technician", "outsider", "evaluator"])
def test_outsiders_get_a_404(persona, plan, client_for, request):
    client = client_for(request.getfixturevalue(persona))
    for name in ("plan_detail", "plan_edit", "action_create", "commitment_create"):
        assert client.get(reverse(f"coordination:{name}", args=[plan.pk])).status_code == 404, name


def test_an_organisation_that_attends_the_person_but_does_not_take_part_gets_a_404(
    plan,
    shared_person,
    ngo,
    ngo_technician,
    client_for,
):
    from tests.factories import enrol

    enrol(shared_person, ngo)
    assert (
        client_for(ngo_technician)
        .get(reverse("coordination:plan_detail", args=[plan.pk]))
        .status_code
        == 404
    )


# --- Creating and editing the plan ----------------------------------------------------------------


def test_a_plan_is_created_from_the_record_with_participants_that_attend_the_person(
    shared_person,
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
    client_for,
):
    client = client_for(social_worker)
    url = reverse("coordination:plan_create", args=[shared_person.pk])
    data = {
        "title": "Proyecto de inserción 2025",
        "start_date": "01/03/2025",
        "review_date": "01/06/2025",
        "state": JointPlan.State.ACTIVE,
        "person_agreed": "on",
        "signed_on": "01/03/2025",
        "organisations": [employment_office.pk],
    }
    response = client.post(url, data)
    plan = JointPlan.objects.get()
    assert response.status_code == 302
    assert set(plan.organisations.all()) == {social_services_centre, employment_office}
    assert (plan.start_date, plan.signed_on, plan.organising_organisation) == (
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 1),
        social_services_centre,
    )
    response = client.post(url, {**data, "organisations": [ngo.pk]})
    assert response.status_code == 200 and JointPlan.objects.count() == 1


def test_the_agreement_needs_its_signature_date_and_the_review_comes_after_the_start(
    shared_person, social_worker, client_for
):
    response = client_for(social_worker).post(
        reverse("coordination:plan_create", args=[shared_person.pk]),
        {
            "title": "Plan",
            "start_date": "01/03/2025",
            "review_date": "01/02/2025",
            "state": "draft",
            "person_agreed": "on",
        },
    )
    html = response.content.decode()
    assert "La revisión no puede ser anterior al inicio." in html
    assert "Indique la fecha en que la persona firmó su acuerdo." in html
    assert not JointPlan.objects.exists()


def test_a_stale_edit_is_refused_and_the_input_kept(
    plan, social_worker, employment_counsellor, client_for
):
    url = reverse("coordination:plan_edit", args=[plan.pk])
    form = {
        "title": "Título",
        "start_date": plan.start_date.strftime("%d/%m/%Y"),
        "review_date": plan.review_date.strftime("%d/%m/%Y"),
        "state": JointPlan.State.ACTIVE,
        "version": plan.version,
        "organisations": [o.pk for o in plan.organisations.all()],
    }
    first = client_for(social_worker).post(url, {**form, "title": "Cambio de Ana"})
    assert first.status_code == 302
    second = client_for(employment_counsellor).post(url, {**form, "title": "Cambio de Bruno"})
    assert second.status_code == 200
    html = second.content.decode()
    assert "Otra persona ha guardado cambios en este itinerario" in html
    assert 'value="Cambio de Bruno"' in html  # nothing lost
    assert "Cambio de Ana" in html  # the current version is shown
    plan.refresh_from_db()
    assert (plan.title, plan.version) == ("Cambio de Ana", 2)


def test_only_the_organising_organisation_changes_the_participants(
    plan,
    shared_person,
    social_services_centre,
    employment_office,
    ngo,
    employment_counsellor,
    social_worker,
    viewer_of,
):
    from tests.factories import enrol

    enrol(shared_person, ngo)
    with pytest.raises(ValidationError) as refused:
        services.plan_update(
            viewer=viewer_of(employment_counsellor),
            plan_id=plan.pk,
            version=plan.version,
            data={},
            organisation_ids=[employment_office.pk, ngo.pk],
        )
    assert "Solo la organización que impulsa" in str(refused.value)
    services.plan_update(
        viewer=viewer_of(social_worker),
        plan_id=plan.pk,
        version=plan.version,
        data={},
        organisation_ids=[],
    )
    assert list(plan.organisations.all()) == [social_services_centre]


def test_plan_update_checks_the_version(plan, social_worker, viewer_of):
    with pytest.raises(ValidationError) as stale:
        services.plan_update(
            viewer=viewer_of(social_worker),
            plan_id=plan.pk,
            version=plan.version + 5,
            data={"title": "x"},
        )
    assert stale.value.code == "stale"


# --- Actions --------------------------------------------------------------------------------------


def test_a_service_adds_actions_only_in_its_own_areas(
    plan, employment_counsellor, employment_office, client_for, viewer_of
):
    resource = make_resource(employment_office, name="Taller de búsqueda activa")
    client = client_for(employment_counsellor)
    url = reverse("coordination:action_create", args=[plan.pk])
    base = {
        "action_type": PlanAction.Type.JOB_SEARCH,
        "description": "Taller semanal",
        "start_date": "01/03/2025",
    }
    response = client.post(url, {**base, "category": "exclusion_social"})
    assert (
        response.status_code == 200
        and "no es una de las opciones disponibles" in response.content.decode()
    )
    with pytest.raises(ValidationError):
        services.plan_action_create(
            viewer=viewer_of(employment_counsellor),
            plan_id=plan.pk,
            action_type="otra",
            description="x",
            category="salud",
            start_date=timezone.localdate(),
        )
    response = client.post(url, {**base, "category": "itinerario_empleo", "resource": resource.pk})
    assert response.status_code == 302
    action = PlanAction.objects.get(description="Taller semanal")
    assert (action.owner_organisation, action.owner_service, action.resource) == (
        employment_office,
        ServiceKind.EMPLOYMENT,
        resource,
    )


def test_only_the_owner_changes_an_actions_state_with_its_version(
    plan, social_worker, employment_counsellor, client_for
):
    action = plan.actions.get(description=EMPLOYMENT_TEXT)
    url = reverse("coordination:action_state", args=[action.pk])
    assert (
        client_for(social_worker).post(url, {"state": "completada", "version": 1}).status_code
        == 404
    )
    client = client_for(employment_counsellor)
    assert client.post(url, {"state": "en_curso", "version": 1}).status_code == 302
    client.post(url, {"state": "completada", "version": 1})  # stale: read before the first change
    action.refresh_from_db()
    assert (action.state, action.version) == ("en_curso", 2)


# --- Commitments ----------------------------------------------------------------------------------


def test_compliance_is_recorded_only_by_the_organisation_that_checks_the_commitment(
    plan,
    social_services_centre,
    social_worker,
    employment_counsellor,
    client_for,
    viewer_of,
):
    commitment = make_commitment(
        plan, social_services_centre, social_worker, category="rentas_minimas"
    )
    url = reverse("coordination:compliance_create", args=[commitment.pk])
    data = {"date": timezone.localdate().strftime("%d/%m/%Y"), "complied": "0", "note": "No acudió"}
    assert client_for(employment_counsellor).post(url, data).status_code == 404
    with pytest.raises(PermissionDenied):
        services.compliance_record(
            viewer=viewer_of(employment_counsellor),
            commitment_id=commitment.pk,
            date=timezone.localdate(),
            complied=True,
        )
    assert not CommitmentCompliance.objects.exists()

    assert client_for(social_worker).post(url, data).status_code == 302
    record = CommitmentCompliance.objects.get()
    assert (record.complied, record.note, record.recorded_by_org) == (
        False,
        "No acudió",
        social_services_centre,
    )


def test_a_compliance_date_cannot_be_in_the_future(
    plan, social_services_centre, social_worker, client_for
):
    commitment = make_commitment(
        plan, social_services_centre, social_worker, category="rentas_minimas"
    )
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    response = client_for(social_worker).post(
        reverse("coordination:compliance_create", args=[commitment.pk]),
        {"date": tomorrow, "complied": "1"},
    )
    assert "La fecha no puede ser posterior a hoy." in response.content.decode()
    assert not CommitmentCompliance.objects.exists()


def test_a_commitment_is_checked_by_the_organisation_that_adds_it(
    plan, employment_counsellor, employment_office, client_for
):
    response = client_for(employment_counsellor).post(
        reverse("coordination:commitment_create", args=[plan.pk]),
        {"description": "Inscribirse como demandante", "category": "demanda_empleo"},
    )
    assert response.status_code == 302
    commitment = plan.commitments.get()
    assert (commitment.checked_by_organisation, commitment.checked_by_service) == (
        employment_office,
        "employment",
    )


# --- Overdue reviews ------------------------------------------------------------------------------


def test_overdue_plan_reviews(
    shared_person, person, social_services_centre, employment_office, social_worker
):
    today = timezone.localdate()
    past = today - dt.timedelta(days=3)
    overdue = make_plan(
        shared_person,
        social_services_centre,
        social_worker,
        start_date=past - dt.timedelta(30),
        review_date=past,
    )
    make_plan(
        shared_person,
        social_services_centre,
        social_worker,
        start_date=past - dt.timedelta(30),
        review_date=past,
        state=JointPlan.State.CLOSED,
    )
    make_plan(person, social_services_centre, social_worker)  # review in the future
    make_plan(
        shared_person,
        employment_office,
        social_worker,
        start_date=past - dt.timedelta(30),
        review_date=past,
    )  # social services do not take part
    assert list(overdue_plan_reviews(organisation_id=social_services_centre.pk)) == [overdue]


def test_the_plan_form_warns_that_every_participant_reads_the_title(
    plan, shared_person, social_worker, client_for
):
    """The title is the plan's one free text shown to every participant whatever the areas of its
    actions (decision 0006): the form says it must hold no personal details."""
    client = client_for(social_worker)
    for url in (
        reverse("coordination:plan_create", args=[shared_person.pk]),
        reverse("coordination:plan_edit", args=[plan.pk]),
    ):
        html = client.get(url).content.decode()
        assert 'id="id_title_helptext"' in html
        assert "Lo ven todas las organizaciones participantes" in html
        assert "no escriba en él datos personales" in html
