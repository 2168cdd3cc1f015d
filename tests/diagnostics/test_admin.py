"""Diagnostics in the admin: every page opens; instruments and alert rules are configured
there; alerts and deliveries are only read, without their texts; lists cost the same
number of queries whatever their length."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Level
from diagnostics.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    Instrument,
    Item,
)
from diagnostics.services import (
    employability_assessment_record,
    exclusion_assessment_record,
    screening_record,
)
from ris.accounts.viewer import Viewer
from sharing.models import Enrolment

from .conftest import sweep, today

pytestmark = pytest.mark.django_db

MODELS = list(apps.get_app_config("diagnostics").get_models())


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _rows(world, n: int = 1):
    """At least one row in every diagnostics table."""
    instrument = Instrument.objects.get(code="foessa-35")
    items = list(Item.objects.filter(area__instrument=instrument).values_list("pk", flat=True)[:2])
    social = Viewer.from_membership(world.social_worker.memberships.get())
    counsellor = Viewer.from_membership(world.employment_counsellor.memberships.get())
    for _ in range(n):
        person = world.person(attended_by=("social", "employment"))
        world.consent(person)
        Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
        exclusion_assessment_record(
            viewer=social,
            person_id=person.pk,
            instrument=instrument,
            present_item_ids=items,
            assessed_on=today(),
        )
        employability_assessment_record(
            viewer=counsellor,
            person_id=person.pk,
            assessed_on=today(),
            level=Level.MEDIUM,
            months_unemployed=3,
            age=40,
            languages=["es"],
            driving_licence=True,
            months_worked_last_two_years=10,
        )
        screening_record(
            viewer=social,
            person_id=person.pk,
            screened_on=today(),
            answers={
                q: True
                for q in (
                    "has_work_experience",
                    "completed_compulsory_education",
                    "speaks_spanish",
                    "available_for_work",
                    "has_driving_licence",
                    "basic_digital_skills",
                )
            },
        )
    sweep("sin_contacto")


@pytest.fixture
def rows(world):
    _rows(world)


def test_every_diagnostics_model_is_in_the_admin():
    assert [m._meta.label for m in MODELS if not admin.site.is_registered(m)] == []


def test_every_table_has_rows(rows):
    assert [m._meta.label for m in MODELS if not m._default_manager.exists()] == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_list_search_detail_and_add_page_opens(model, rows, administrator, client_for, rf):
    client = client_for(administrator)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200 and response.context["cl"].result_count >= 1
    if admin.site._registry[model].search_fields:
        assert client.get(admin_url(model, "changelist"), {"q": "García 12"}).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200
    request = rf.get("/admin/")
    request.user = administrator
    can_add = admin.site._registry[model].has_add_permission(request)
    assert client.get(admin_url(model, "add")).status_code == (200 if can_add else 403)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_lists_cost_the_same_with_more_rows(model, world, administrator, client_for):
    _rows(world)
    client = client_for(administrator)
    url = admin_url(model, "changelist")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    _rows(world, 3)
    assert count() == before


def test_alerts_and_deliveries_are_only_read_and_their_texts_are_not_shown(
    rows, administrator, client_for, rf
):
    request = rf.get("/admin/")
    request.user = administrator
    for model in (Alert, AlertDelivery):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    delivery = AlertDelivery.objects.first()
    html = (
        client_for(administrator)
        .get(admin_url(AlertDelivery, "change", delivery.pk))
        .content.decode()
    )
    assert delivery.text not in html and delivery.plain_text not in html


def test_an_administrator_edits_a_rule_s_thresholds_and_bad_ones_are_refused(
    administrator, client_for
):
    rule = AlertRule.objects.get(code="sin_contacto")
    client = client_for(administrator)
    url = admin_url(AlertRule, "change", rule.pk)
    form = {
        "description": rule.description,
        "thresholds": json.dumps({"days": 60}),
        "is_active": "on",
    }
    assert client.post(url, form).status_code == 302
    rule.refresh_from_db()
    assert rule.thresholds == {"days": 60}
    response = client.post(url, {**form, "thresholds": json.dumps({"days": -3})})
    assert response.status_code == 200 and "Umbral no válido" in response.content.decode()
    response = client.post(url, {**form, "thresholds": json.dumps({"dias": 3})})
    assert "umbral desconocido" in response.content.decode()
    rule.refresh_from_db()
    assert rule.thresholds == {"days": 60}


def test_rules_are_deactivated_not_deleted_nor_invented(administrator, rf):
    request = rf.get("/admin/")
    request.user = administrator
    rule_admin = admin.site._registry[AlertRule]
    assert not rule_admin.has_delete_permission(request, AlertRule.objects.first())
    assert not rule_admin.has_add_permission(request)  # every programmed rule already has its row


def test_duplicating_an_instrument_version_from_the_list(administrator, client_for):
    instrument = Instrument.objects.get(code="foessa-35")
    response = client_for(administrator).post(
        admin_url(Instrument, "changelist"),
        {"action": "duplicate_as_new_version", admin.helpers.ACTION_CHECKBOX_NAME: [instrument.pk]},
    )
    assert response.status_code == 302
    copy = Instrument.objects.exclude(pk=instrument.pk).get(code="foessa-35")
    assert Item.objects.filter(area__instrument=copy).count() == 35 and not copy.is_active
