"""Goals of a joint plan (objetivos).

A goal has a text, a data category, the organisation and service that own it, a state and
dates. Participants see goals as they see actions: in full when the viewer's decision for
(category, service) with the purpose "itinerario" is FULL, as "objetivo en el área X de Y" at
INDICATOR (once per pair), not at all when HIDDEN; the printed plan the same. A service files
goals only in its own areas; only the owning organisation edits a goal, with the version it
read (a stale save is refused and the input kept).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from consent.purposes import Purpose
from coordination import services
from coordination.models import PlanGoal
from ris.accounts.models import ServiceKind

from .builders import make_goal, make_plan

pytestmark = pytest.mark.django_db

FULL_TEXT = "OBJETIVO-exclusion: recuperar la red de apoyo"  # exclusion_social: full with consent
INDICATOR_TEXT = "OBJETIVO-familia: mediación"  # situacion_familiar: an indicator (matrix)
HIDDEN_TEXT = "OBJETIVO-penal: cumplir la medida"  # antecedentes_penales: hidden (matrix)
INDICATOR_SENTENCE = "Objetivo en el área «Situación personal y familiar» de Servicios sociales."
HIDDEN_TARGET = dt.date(2031, 7, 19)


@pytest.fixture
def plan(shared_person, social_services_centre, employment_office, social_worker):
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    make_goal(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description=FULL_TEXT,
    )
    make_goal(
        plan,
        social_services_centre,
        social_worker,
        category="situacion_familiar",
        description=INDICATOR_TEXT,
    )
    make_goal(
        plan,
        social_services_centre,
        social_worker,
        category="antecedentes_penales",
        description=HIDDEN_TEXT,
        target_date=HIDDEN_TARGET,
    )
    return plan


def page(client, plan) -> str:
    response = client.get(reverse("coordination:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def pdf(client, plan) -> str:
    response = client.get(
        f"/espacio/personas/{plan.person_id}/itinerarios/{plan.pk}/itinerario.pdf"
    )
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


# --- Filtered like actions ------------------------------------------------------------------------


def test_with_consent_the_orientador_sees_full_indicator_and_absent_goals(
    plan, shared_person, employment_counsellor, consent, client_for
):
    consent(shared_person, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.ITINERARY])
    client = client_for(employment_counsellor)
    for text in (page(client, plan), pdf(client, plan)):
        assert FULL_TEXT in text
        assert INDICATOR_TEXT not in text and HIDDEN_TEXT not in text
        assert HIDDEN_TARGET.strftime("%d/%m/%Y") not in text
    assert INDICATOR_SENTENCE in page(client, plan)
    assert (
        "Hay objetivos en el área «Situación personal y familiar» a cargo de Servicios sociales."
        in (pdf(client, plan))
    )


def test_without_consent_no_goal_of_another_service_is_shown(
    plan, employment_counsellor, client_for
):
    html = page(client_for(employment_counsellor), plan)
    assert "OBJETIVO-" not in html and "Objetivo en el área" not in html
    assert "No hay objetivos que pueda ver." in html


def test_the_owner_sees_every_goal_of_her_service_and_may_edit_them(
    plan, social_worker, client_for
):
    html = page(client_for(social_worker), plan)
    assert FULL_TEXT in html and INDICATOR_TEXT in html and HIDDEN_TEXT in html
    for goal in plan.goals.all():
        assert reverse("coordination:goal_edit", args=[goal.pk]) in html


# --- Writing goals --------------------------------------------------------------------------------


def test_a_goal_is_added_in_the_services_own_areas(
    plan, employment_office, employment_counsellor, client_for, viewer_of
):
    client = client_for(employment_counsellor)
    url = reverse("coordination:goal_create", args=[plan.pk])
    data = {
        "description": "Conseguir un empleo a media jornada",
        "category": "itinerario_empleo",
        "state": PlanGoal.State.PENDING,
        "start_date": "01/03/2025",
        "target_date": "01/09/2025",
    }
    assert client.post(url, {**data, "category": "exclusion_social"}).status_code == 200
    assert client.post(url, {**data, "target_date": "01/01/2025"}).status_code == 200
    assert client.post(url, data).status_code == 302
    goal = plan.goals.get(owner_organisation=employment_office)
    assert (goal.owner_service, goal.category, goal.target_date) == (
        ServiceKind.EMPLOYMENT,
        "itinerario_empleo",
        dt.date(2025, 9, 1),
    )
    with pytest.raises(ValidationError):
        services.plan_goal_create(
            viewer=viewer_of(employment_counsellor),
            plan_id=plan.pk,
            description="x",
            category="salud",
            start_date=timezone.localdate(),
        )


def test_only_the_owner_edits_a_goal(plan, employment_counsellor, client_for, viewer_of):
    goal = plan.goals.first()
    assert (
        client_for(employment_counsellor)
        .get(reverse("coordination:goal_edit", args=[goal.pk]))
        .status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        services.plan_goal_update(
            viewer=viewer_of(employment_counsellor),
            goal_id=goal.pk,
            version=goal.version,
            data={"state": PlanGoal.State.ACHIEVED},
        )


def test_a_stale_edit_is_refused_and_the_input_kept(plan, social_worker, client_for, viewer_of):
    goal = plan.goals.get(category="exclusion_social")
    client = client_for(social_worker)
    url = reverse("coordination:goal_edit", args=[goal.pk])
    read_version = goal.version
    services.plan_goal_update(  # someone else saves first
        viewer=viewer_of(social_worker),
        goal_id=goal.pk,
        version=read_version,
        data={"state": PlanGoal.State.IN_PROGRESS},
    )
    response = client.post(
        url,
        {
            "description": "MI-CAMBIO",
            "category": "exclusion_social",
            "state": PlanGoal.State.ACHIEVED,
            "start_date": goal.start_date.strftime("%d/%m/%Y"),
            "version": read_version,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Otra persona ha guardado cambios en este objetivo" in html
    assert "MI-CAMBIO" in html  # the input is kept
    assert "Versión guardada ahora" in html and "En curso" in html
    goal.refresh_from_db()
    assert (goal.description, goal.state, goal.version) == (
        FULL_TEXT,
        PlanGoal.State.IN_PROGRESS,
        read_version + 1,
    )
    response = client.post(
        url,
        {
            "description": "MI-CAMBIO",
            "category": "exclusion_social",
            "state": PlanGoal.State.ACHIEVED,
            "start_date": goal.start_date.strftime("%d/%m/%Y"),
            "version": goal.version,
        },
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.description, goal.state) == ("MI-CAMBIO", PlanGoal.State.ACHIEVED)
