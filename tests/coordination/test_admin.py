"""The coordination tables in the admin: in Spanish, for administrators only, every list,
search, detail and add page opens, and lists cost the same with more rows. Referrals,
information requests and compliance records are only read there."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coordination.models import CommitmentCompliance, InformationRequest, LinkRequest, Referral

from .builders import coordination_rows

pytestmark = pytest.mark.django_db

MODELS = list(apps.get_app_config("coordination").get_models())
READ_ONLY = (Referral, LinkRequest, InformationRequest, CommitmentCompliance)


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def rows(person, social_services_centre, employment_office, social_worker):
    coordination_rows(
        person=person, sender=social_services_centre, receiver=employment_office, user=social_worker
    )


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_model_is_registered():
    assert [m._meta.label for m in MODELS if not admin.site.is_registered(m)] == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_list_search_detail_and_add_page_opens(model, rows, administrator, client_for):
    client = client_for(administrator)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert client.get(admin_url(model, "changelist"), {"q": "García 12"}).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200
    can_add = admin.site._registry[model].has_add_permission(_request(administrator))
    assert client.get(admin_url(model, "add")).status_code == (200 if can_add else 403)


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_states_and_records_moved_by_the_services_are_only_read(model, administrator):
    model_admin = admin.site._registry[model]
    request = _request(administrator)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_social_worker_does_not_enter(rows, social_worker, client_for):
    response = client_for(social_worker).get(admin_url(Referral, "changelist"))
    assert response.status_code == 302


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_lists_cost_the_same_with_more_rows(
    model, rows, administrator, client_for, social_services_centre, employment_office, social_worker
):
    from tests.factories import PersonFactory, enrol

    client = client_for(administrator)
    url = admin_url(model, "changelist")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    for _ in range(3):
        person = PersonFactory()
        enrol(person, social_services_centre)
        coordination_rows(
            person=person,
            sender=social_services_centre,
            receiver=employment_office,
            user=social_worker,
        )
    assert count() == before
