"""Actions linked to the goals they serve (PlanAction.goal).

An action may serve one goal of the same plan, of any service (goals are the plan's shared
objectives), but only a goal its author sees in full: the action form lists no other goal's
text, and a posted id of a goal seen only as an indicator, hidden or of another plan is refused
with one Spanish message, nothing saved. The plan page and the PDF show each goal seen in full
with its actions, then "Acciones sin objetivo": an action whose goal the viewer does not see in
full is listed there, so a hidden goal and no goal look the same. The page costs the same
number of queries whatever the goals and links.

The orientador (employment) has a consent for the plan's purpose: social services' goals in
"exclusion_social" are FULL for him, "situacion_familiar" an INDICATOR and
"antecedentes_penales" HIDDEN (default matrix).
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from consent.purposes import Purpose
from coordination import services
from coordination.models import GOAL_OF_ANOTHER_PLAN, PlanAction, PlanGoal
from coordination.selectors import GOAL_NOT_LINKABLE
from ris.accounts.models import ServiceKind
from sharing.models import DisclosureLogEntry

from .builders import add_agreement, add_case, make_action, make_conference, make_goal, make_plan

pytestmark = pytest.mark.django_db

FULL_GOAL = "OBJETIVO-VISIBLE recuperar la red de apoyo"  # exclusion_social
INDICATOR_GOAL = "OBJETIVO-INDICADOR mediación familiar"  # situacion_familiar
HIDDEN_GOAL = "OBJETIVO-OCULTO cumplir la medida judicial"  # antecedentes_penales
OWN_GOAL = "OBJETIVO-EMPLEO encontrar empleo a media jornada"  # the orientador's own service
ERROR = str(GOAL_NOT_LINKABLE)
UNLINKED = "Acciones sin objetivo"


@pytest.fixture
def orientador_consent(shared_person, consent):
    return consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])


@pytest.fixture
def plan(
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
):
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    for category, text in (
        ("exclusion_social", FULL_GOAL),
        ("situacion_familiar", INDICATOR_GOAL),
        ("antecedentes_penales", HIDDEN_GOAL),
    ):
        make_goal(plan, social_services_centre, social_worker, category=category, description=text)
    make_goal(
        plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description=OWN_GOAL,
    )
    return plan


def goal(plan, text) -> PlanGoal:
    return plan.goals.get(description=text)


def page(client, plan) -> str:
    response = client.get(reverse("coordination:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def pdf(client, plan) -> str:
    response = client.get(reverse("workspace:joint_plan_pdf", args=[plan.person_id, plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    return re.sub(r"Impreso el [\d/]+ [\d:]+\.", "", text)  # the minute it was printed


def goals_and_actions(html: str) -> str:
    """The page from the goals to the commitments, without the (per-request) CSRF tokens."""
    start = html.index('<section aria-labelledby="goals-title">')
    end = html.index('<section aria-labelledby="commitments-title">')
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html[start:end])


def under_goal(html: str, goal: PlanGoal) -> str:
    """The goal's block on the plan page: its heading, details and actions."""
    start = html.index(f'<article class="entry" aria-labelledby="goal-{goal.pk}">')
    return html[start : html.index("</article>", start)]


def unlinked(html: str) -> str:
    """The "Acciones sin objetivo" block of the plan page ("" if there is none)."""
    if 'id="unlinked-actions"' not in html:
        return ""
    start = html.index('id="unlinked-actions"')
    return html[start : html.index("</section>", start)]


def action_data(**extra) -> dict:
    return {
        "action_type": PlanAction.Type.TRAINING,
        "description": "ACCION-NUEVA curso de carretillero",
        "category": "itinerario_empleo",
        "start_date": "01/03/2025",
        **extra,
    }


# --- Linking ----------------------------------------------------------------------------------


def test_an_action_is_linked_to_another_services_goal_seen_in_full(
    plan, orientador_consent, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    target = goal(plan, FULL_GOAL)
    response = client.post(
        reverse("coordination:action_create", args=[plan.pk]), action_data(goal=target.pk)
    )
    assert response.status_code == 302
    action = plan.actions.get(description="ACCION-NUEVA curso de carretillero")
    assert action.goal == target
    html = page(client, plan)
    assert "ACCION-NUEVA" in under_goal(html, target)
    assert "ACCION-NUEVA" not in unlinked(html)


def test_an_action_without_goal_is_listed_as_such(
    plan, orientador_consent, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    response = client.post(
        reverse("coordination:action_create", args=[plan.pk]), action_data(goal="")
    )
    assert response.status_code == 302
    assert plan.actions.get().goal is None
    html = page(client, plan)
    assert "ACCION-NUEVA" in unlinked(html)
    assert f'<h3 id="unlinked-title">{UNLINKED}</h3>' in html


def test_the_select_lists_only_the_goals_the_user_sees_in_full(
    plan, shared_person, orientador_consent, employment_office, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    html = client.get(reverse("coordination:action_create", args=[plan.pk])).content.decode()
    assert '<label for="id_goal">Objetivo al que contribuye:</label>' in html
    assert f'<option value="{goal(plan, FULL_GOAL).pk}">' in html and FULL_GOAL in html
    assert f'<option value="{goal(plan, OWN_GOAL).pk}">' in html and OWN_GOAL in html
    for text in (INDICATOR_GOAL, HIDDEN_GOAL):
        assert text not in html
        assert f'<option value="{goal(plan, text).pk}"' not in html
    # the social goal's text was read across services: logged like on the plan page
    assert DisclosureLogEntry.objects.filter(
        person=shared_person,
        organisation=employment_office,
        category="exclusion_social",
        level="full",
        purpose=Purpose.ITINERARY,
    ).exists()
    assert not DisclosureLogEntry.objects.filter(
        person=shared_person, category__in=["situacion_familiar", "antecedentes_penales"]
    ).exists()


def test_without_consent_the_select_lists_only_the_services_own_goals(
    plan, employment_counsellor, client_for
):
    html = (
        client_for(employment_counsellor)
        .get(reverse("coordination:action_create", args=[plan.pk]))
        .content.decode()
    )
    assert OWN_GOAL in html
    assert "OBJETIVO-VISIBLE" not in html and "OBJETIVO-INDICADOR" not in html
    assert "OBJETIVO-OCULTO" not in html


# --- Refusing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [INDICATOR_GOAL, HIDDEN_GOAL])
def test_a_posted_goal_the_user_does_not_see_in_full_is_refused(
    text, plan, orientador_consent, employment_counsellor, client_for, viewer_of
):
    target = goal(plan, text)
    response = client_for(employment_counsellor).post(
        reverse("coordination:action_create", args=[plan.pk]), action_data(goal=target.pk)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert ERROR in html
    assert text not in html  # the error names no goal
    assert not plan.actions.exists()
    with pytest.raises(ValidationError) as refused:  # the service refuses it too
        services.plan_action_create(
            viewer=viewer_of(employment_counsellor),
            plan_id=plan.pk,
            action_type=PlanAction.Type.TRAINING,
            description="x",
            category="itinerario_empleo",
            start_date=timezone.localdate(),
            goal_id=target.pk,
        )
    assert refused.value.message_dict == {"goal": [ERROR]}
    assert not plan.actions.exists()


def test_a_goal_of_another_plan_is_refused_by_the_form_the_model_and_the_database(
    plan,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    orientador_consent,
    client_for,
    viewer_of,
):
    other_plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    elsewhere = make_goal(
        other_plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description="OBJETIVO-OTRO-ITINERARIO",
    )
    response = client_for(employment_counsellor).post(
        reverse("coordination:action_create", args=[plan.pk]), action_data(goal=elsewhere.pk)
    )
    assert response.status_code == 200 and ERROR in response.content.decode()
    with pytest.raises(ValidationError):
        services.plan_action_create(
            viewer=viewer_of(employment_counsellor),
            plan_id=plan.pk,
            action_type=PlanAction.Type.TRAINING,
            description="x",
            category="itinerario_empleo",
            start_date=timezone.localdate(),
            goal_id=elsewhere.pk,
        )
    assert not plan.actions.exists()

    action = make_action(plan, employment_office, employment_counsellor, category="demanda_empleo")
    action.goal = elsewhere
    with pytest.raises(ValidationError) as refused:
        action.full_clean()
    assert refused.value.message_dict["goal"] == [str(GOAL_OF_ANOTHER_PLAN)]
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanAction.objects.filter(pk=action.pk).update(goal=elsewhere)
        with connection.cursor() as cursor:  # the key is deferred: check it now
            cursor.execute("SET CONSTRAINTS plan_action_goal_same_plan IMMEDIATE")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS plan_action_goal_same_plan DEFERRED")
    PlanAction.objects.filter(pk=action.pk).update(goal=goal(plan, OWN_GOAL))  # same plan: fine


def test_a_goal_with_actions_cannot_move_to_another_plan(
    plan,
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
):
    own = goal(plan, OWN_GOAL)
    make_action(plan, employment_office, employment_counsellor, category="demanda_empleo", goal=own)
    own.plan = make_plan(shared_person, social_services_centre, social_worker)
    with pytest.raises(ValidationError) as refused:
        own.full_clean()
    assert "plan" in refused.value.message_dict


# --- The plan page and the PDF ------------------------------------------------------------------


@pytest.fixture
def linked(plan, social_services_centre, employment_office, social_worker, employment_counsellor):
    """Actions the orientador sees in full, linked to goals of every level, and one he sees only
    as an indicator, linked to the goal he sees in full."""
    make_action(
        plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description="ACCION-A-VISIBLE",
        goal=goal(plan, FULL_GOAL),
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description="ACCION-A-OCULTO",
        goal=goal(plan, HIDDEN_GOAL),
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description="ACCION-A-INDICADOR",
        goal=goal(plan, INDICATOR_GOAL),
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="situacion_familiar",
        description="ACCION-SOLO-INDICADOR",
        goal=goal(plan, FULL_GOAL),
    )
    return plan


def test_the_page_shows_each_goal_with_its_actions_and_hides_unseen_goals(
    linked, orientador_consent, employment_counsellor, client_for
):
    html = page(client_for(employment_counsellor), linked)
    block = under_goal(html, goal(linked, FULL_GOAL))
    assert FULL_GOAL in block and "ACCION-A-VISIBLE" in block
    assert "ACCION-SOLO-INDICADOR" not in html  # an indicator action: its sentence only, once
    assert (
        html.count("Acción en el área «Situación personal y familiar» de Servicios sociales.") == 1
    )
    rest = unlinked(html)
    assert "ACCION-A-OCULTO" in rest and "ACCION-A-INDICADOR" in rest
    assert "ACCION-A-VISIBLE" not in rest
    for secret in (HIDDEN_GOAL, INDICATOR_GOAL, "OBJETIVO-OCULTO", "OBJETIVO-INDICADOR"):
        assert secret not in html
    assert "Objetivo en el área «Situación personal y familiar» de Servicios sociales." in html


def test_the_owner_sees_every_action_under_its_goal(linked, social_worker, client_for):
    html = page(client_for(social_worker), linked)
    assert "ACCION-A-OCULTO" in under_goal(html, goal(linked, HIDDEN_GOAL))
    assert "ACCION-A-INDICADOR" in under_goal(html, goal(linked, INDICATOR_GOAL))
    assert "ACCION-SOLO-INDICADOR" in under_goal(html, goal(linked, FULL_GOAL))
    assert unlinked(html) == ""  # no action without a goal she sees


@pytest.mark.parametrize("text", [HIDDEN_GOAL, INDICATOR_GOAL])
def test_a_goal_the_viewer_does_not_see_and_no_goal_render_the_same(
    text, linked, orientador_consent, employment_counsellor, client_for
):
    client = client_for(employment_counsellor)
    moved = linked.actions.filter(goal=goal(linked, text))
    linked_html, linked_pdf = goals_and_actions(page(client, linked)), pdf(client, linked)
    ids = list(moved.values_list("pk", flat=True))
    assert ids
    moved.update(goal=None)
    assert not PlanAction.objects.filter(pk__in=ids, goal__isnull=False).exists()
    assert goals_and_actions(page(client, linked)) == linked_html
    assert pdf(client, linked) == linked_pdf


def test_the_pdf_has_the_same_structure_and_no_unseen_goals_text(
    linked, orientador_consent, employment_counsellor, client_for
):
    text = pdf(client_for(employment_counsellor), linked)
    for secret in (HIDDEN_GOAL, INDICATOR_GOAL, "OBJETIVO-OCULTO", "OBJETIVO-INDICADOR"):
        assert secret not in text
    assert "ACCION-SOLO-INDICADOR" not in text
    # the goal, then its action; then the actions without a goal he sees
    goal_at, own_at = text.index(FULL_GOAL), text.index("ACCION-A-VISIBLE")
    unlinked_at = text.index(UNLINKED)
    assert goal_at < own_at < unlinked_at
    assert "ACCION-A-VISIBLE" not in text[unlinked_at:]  # once, under its goal
    assert unlinked_at < text.index("ACCION-A-OCULTO")
    assert unlinked_at < text.index("ACCION-A-INDICADOR")
    assert (
        "Hay acciones en el área «Situación personal y familiar» a cargo de Servicios sociales."
        in text
    )


def test_the_owners_pdf_prints_every_action_under_its_goal(linked, social_worker, client_for):
    text = pdf(client_for(social_worker), linked)
    assert UNLINKED not in text
    assert text.index(HIDDEN_GOAL) < text.index("ACCION-A-OCULTO")


def test_the_page_the_pdf_and_the_form_cost_the_same_whatever_the_goals_and_links(
    shared_person,
    social_services_centre,
    employment_office,
    social_worker,
    employment_counsellor,
    orientador_consent,
    client_for,
    django_assert_max_num_queries,
):
    counts = {}
    for n in (2, 30):
        plan = make_plan(
            shared_person, social_services_centre, social_worker, participants=[employment_office]
        )
        for i in range(n):
            category = ("exclusion_social", "situacion_familiar", "antecedentes_penales")[i % 3]
            social = make_goal(plan, social_services_centre, social_worker, category=category)
            own = make_goal(
                plan, employment_office, employment_counsellor, category="itinerario_empleo"
            )
            for target in (social, own, None):
                make_action(
                    plan,
                    employment_office,
                    employment_counsellor,
                    category="itinerario_empleo",
                    goal=target,
                )
            make_action(plan, social_services_centre, social_worker, category=category, goal=own)
        client = client_for(employment_counsellor)
        for name, url in (
            ("page", reverse("coordination:plan_detail", args=[plan.pk])),
            ("pdf", reverse("workspace:joint_plan_pdf", args=[plan.person_id, plan.pk])),
            ("form", reverse("coordination:action_create", args=[plan.pk])),
        ):
            client.get(url)  # warm the session
            with (
                django_assert_max_num_queries(30),
                CaptureQueriesContext(connection) as captured,
            ):
                assert client.get(url).status_code == 200
            counts.setdefault(name, []).append(len(captured))
    for name, (small, large) in counts.items():
        assert small == large, (name, small, large)


# --- Editing an action ----------------------------------------------------------------------------


@pytest.fixture
def own_action(plan, employment_office, employment_counsellor):
    return make_action(
        plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description="ACCION-PROPIA",
    )


def edit_data(action, **extra) -> dict:
    return {
        "action_type": action.action_type,
        "description": action.description,
        "category": action.category,
        "start_date": action.start_date.strftime("%d/%m/%Y"),
        "goal": action.goal_id or "",
        "version": action.version,
        **extra,
    }


def test_the_owner_links_an_action_on_edit_with_the_version_it_read(
    plan, own_action, orientador_consent, employment_counsellor, social_worker, client_for
):
    url = reverse("coordination:action_edit", args=[own_action.pk])
    assert client_for(social_worker).get(url).status_code == 404  # not hers
    client = client_for(employment_counsellor)
    html = client.get(url).content.decode()
    assert FULL_GOAL in html and OWN_GOAL in html
    assert INDICATOR_GOAL not in html and HIDDEN_GOAL not in html
    target = goal(plan, FULL_GOAL)
    assert client.post(url, edit_data(own_action, goal=target.pk)).status_code == 302
    own_action.refresh_from_db()
    assert (own_action.goal, own_action.version) == (target, 2)
    # a save from the version read before: refused, input kept, nothing changed
    stale = client.post(url, edit_data(own_action, goal="", description="MI-CAMBIO", version=1))
    html = stale.content.decode()
    assert stale.status_code == 200
    assert "Otra persona ha guardado cambios en esta acción" in html
    assert "MI-CAMBIO" in html and "Versión guardada ahora" in html
    own_action.refresh_from_db()
    assert (own_action.goal, own_action.description, own_action.version) == (
        target,
        "ACCION-PROPIA",
        2,
    )
    assert client.post(url, edit_data(own_action, goal="")).status_code == 302  # unlinked
    own_action.refresh_from_db()
    assert (own_action.goal, own_action.version) == (None, 3)


@pytest.mark.parametrize("text", [INDICATOR_GOAL, HIDDEN_GOAL])
def test_an_edit_to_a_goal_the_user_does_not_see_in_full_is_refused(
    text, plan, own_action, orientador_consent, employment_counsellor, client_for, viewer_of
):
    target = goal(plan, text)
    url = reverse("coordination:action_edit", args=[own_action.pk])
    response = client_for(employment_counsellor).post(url, edit_data(own_action, goal=target.pk))
    html = response.content.decode()
    assert response.status_code == 200 and ERROR in html and text not in html
    with pytest.raises(ValidationError):
        services.plan_action_update(
            viewer=viewer_of(employment_counsellor),
            action_id=own_action.pk,
            version=own_action.version,
            data={"goal_id": target.pk},
        )
    own_action.refresh_from_db()
    assert (own_action.goal_id, own_action.version) == (None, 1)


def test_a_link_to_a_goal_the_owner_no_longer_sees_is_not_shown_and_stays(
    plan, own_action, employment_counsellor, client_for
):
    """Linked while the orientador saw the goal; without the consent now, the edit page shows
    it as no goal, and saving other changes keeps it."""
    hidden_now = goal(plan, FULL_GOAL)
    PlanAction.objects.filter(pk=own_action.pk).update(goal=hidden_now)
    own_action.refresh_from_db()
    client = client_for(employment_counsellor)
    url = reverse("coordination:action_edit", args=[own_action.pk])
    html = client.get(url).content.decode()
    assert "OBJETIVO-VISIBLE" not in html
    assert f'value="{hidden_now.pk}"' not in html
    assert "ACCION-PROPIA" in unlinked(page(client, plan))
    data = edit_data(own_action, goal="", description="ACCION-PROPIA revisada")
    assert client.post(url, data).status_code == 302
    own_action.refresh_from_db()
    assert (own_action.description, own_action.goal) == ("ACCION-PROPIA revisada", hidden_now)


def test_an_action_from_a_conference_agreement_keeps_its_text_and_area(
    plan,
    shared_person,
    employment_office,
    employment_counsellor,
    client_for,
    viewer_of,
):
    action = make_action(
        plan,
        employment_office,
        employment_counsellor,
        category="itinerario_empleo",
        description="ACUERDO-CONVERTIDO",
    )
    conference = make_conference(employment_office, employment_counsellor)
    agreement = add_agreement(
        add_case(conference, shared_person, employment_office, employment_counsellor),
        employment_office,
        employment_counsellor,
        "ACUERDO-CONVERTIDO",
        category="itinerario_empleo",
    )
    agreement.plan_action = action
    agreement.save(update_fields=["plan_action"])
    client = client_for(employment_counsellor)
    url = reverse("coordination:action_edit", args=[action.pk])
    html = client.get(url).content.decode()
    assert 'name="description"' not in html and 'name="category"' not in html
    own = goal(plan, OWN_GOAL)
    data = edit_data(action, goal=own.pk)
    del data["description"], data["category"]
    assert client.post(url, data).status_code == 302
    action.refresh_from_db()
    assert (action.goal, action.description) == (own, "ACUERDO-CONVERTIDO")
    with pytest.raises(ValidationError):
        services.plan_action_update(
            viewer=viewer_of(employment_counsellor),
            action_id=action.pk,
            version=action.version,
            data={"description": "otro texto"},
        )
    with pytest.raises(PermissionDenied):  # and only the owner edits it
        services.plan_action_update(
            viewer=viewer_of(plan.created_by),
            action_id=action.pk,
            version=action.version,
            data={},
        )


# --- Deleting ---------------------------------------------------------------------------------


def test_deleting_a_goal_leaves_its_actions_without_goal_and_a_plan_goes_whole(
    plan, own_action, employment_counsellor, client_for
):
    target = goal(plan, FULL_GOAL)
    PlanAction.objects.filter(pk=own_action.pk).update(goal=target)
    target.delete()
    own_action.refresh_from_db()
    assert own_action.goal is None
    assert "ACCION-PROPIA" in unlinked(page(client_for(employment_counsellor), plan))
    PlanAction.objects.filter(pk=own_action.pk).update(goal=goal(plan, OWN_GOAL))
    plan.delete()
    assert not PlanAction.objects.filter(pk=own_action.pk).exists()
