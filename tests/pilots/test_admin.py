"""Pilots and their follow-ups in the admin: administrators create and correct them; the
territory and the organisations of a pilot must be of its autonomous community."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pilots.models import Dimension, DimensionFollowUp, FundingLine, Pilot
from ris.reference.models import Province
from tests.factories import CASTILLA_LA_MANCHA, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(pilot, coordinator, social_services_centre) -> DimensionFollowUp:
    return DimensionFollowUp.objects.create(
        pilot=pilot, dimension=Dimension.GOVERNANCE, date=dt.date(2026, 2, 1),
        state=DimensionFollowUp.State.ON_TRACK, success_factors="Comisión de seguimiento mensual.",
        recorded_by=coordinator, recorded_by_org=social_services_centre,
    )


@pytest.mark.parametrize("model", [Pilot, DimensionFollowUp], ids=lambda m: m.__name__)
def test_list_search_detail_and_add_pages_open(model, follow_up, administrator, client_for,
                                               django_assert_max_num_queries):
    client = client_for(administrator)
    base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"{base}_changelist"))
    assert response.status_code == 200 and response.context["cl"].result_count == 1
    assert client.get(reverse(f"{base}_changelist"), {"q": "seguimiento"}).status_code == 200
    obj = model.objects.get()
    assert client.get(reverse(f"{base}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"{base}_add")).status_code == 200


def pilot_form(**extra) -> dict:
    return {
        "name": "Piloto Delicias", "code": "piloto-delicias", "objectives": "Itinerarios conjuntos.",
        "community": "07", "start_date": "01/01/2026", "end_date": "31/12/2027", "freeze_after_days": "7",
        "funding_lines": [FundingLine.RRF, FundingLine.STATE], "funding_reference": "PRTR C22.I2",
        "follow_ups-TOTAL_FORMS": "0", "follow_ups-INITIAL_FORMS": "0", **extra,
    }


def test_an_administrator_creates_a_pilot(administrator, client_for, social_services_centre, employment_office):
    response = client_for(administrator).post(
        reverse("admin:pilots_pilot_add"),
        pilot_form(organisations=[social_services_centre.pk, employment_office.pk], provinces=["47"]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    pilot = Pilot.objects.get(code="piloto-delicias")
    assert pilot.funding_lines == ["mrr", "estatal"]
    assert set(pilot.organisations.all()) == {social_services_centre, employment_office}
    assert list(pilot.provinces.all()) == [Province.objects.get(code="47")]


def test_territory_and_organisations_must_be_of_the_pilot_s_community(administrator, client_for):
    toledo_org = OrganisationFactory(community_code=CASTILLA_LA_MANCHA)
    response = client_for(administrator).post(
        reverse("admin:pilots_pilot_add"),
        pilot_form(organisations=[toledo_org.pk], provinces=["45"], municipalities=["45168"]),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "de la comunidad autónoma del piloto" in errors["provinces"][0]
    assert "de la comunidad autónoma" in errors["municipalities"][0]
    assert "de la comunidad autónoma del piloto" in errors["organisations"][0]
    assert not Pilot.objects.filter(code="piloto-delicias").exists()


def test_a_pilot_ends_after_it_starts_and_has_a_funding_line(administrator, client_for, social_services_centre):
    response = client_for(administrator).post(
        reverse("admin:pilots_pilot_add"),
        pilot_form(organisations=[social_services_centre.pk], end_date="01/01/2025", funding_lines=[]),
    )
    errors = response.context["adminform"].form.errors
    assert "funding_lines" in errors
    assert "El fin no puede ser anterior al inicio." in str(errors)


def test_a_coordinator_is_not_let_into_the_admin(coordinator, client_for):
    response = client_for(coordinator).get(reverse("admin:pilots_pilot_changelist"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
