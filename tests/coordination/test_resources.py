"""The resource catalogue (mapa de recursos).

Staff of any role can search and read it; only coordinators (for their autonomous
community) and administrators edit it. The search ignores accents and case on the
name and the description; territory filters keep the resources that cover the wider
territory too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination.models import Resource
from coordination.selectors import resources_search
from ris.reference.models import Municipality, Province

from .builders import make_resource

pytestmark = pytest.mark.django_db

VALLADOLID_PROVINCE = "47"
LEON_PROVINCE = "24"


@pytest.fixture
def catalogue(ngo, employment_office):
    valladolid = Province.objects.get(code=VALLADOLID_PROVINCE)
    return {
        "orientacion": make_resource(
            ngo,
            name="Orientación sociolaboral «Acompaña»",
            description="Itinerarios personalizados de inserción",
        ),
        "vivienda": make_resource(
            ngo,
            name="Programa de vivienda",
            description="Acogida en pisos tutelados",
            target_group=Resource.TargetGroup.HOMELESS,
            province=valladolid,
            municipality=Municipality.objects.get(code="47186"),
        ),
        "leon": make_resource(
            employment_office,
            name="Formación en León",
            description="Cursos de formación",
            province=Province.objects.get(code=LEON_PROVINCE),
        ),
        "rioja": make_resource(
            employment_office,
            name="Empleo joven La Rioja",
            community_code="17",
            target_group=Resource.TargetGroup.YOUTH,
            funding_source=Resource.Funding.RRF,
        ),
        "baja": make_resource(ngo, name="Orientación antigua", is_active=False),
    }


def names(**filters) -> set[str]:
    return {r.name for r in resources_search(**filters)}


@pytest.mark.parametrize("text", ["orientacion", "ORIENTACIÓN", "Orientación", "orientación socio"])
def test_the_search_ignores_accents_and_case(text, catalogue):
    assert names(text=text) == {"Orientación sociolaboral «Acompaña»"}


def test_the_search_reads_the_description_too(catalogue):
    assert names(text="insercion") == {"Orientación sociolaboral «Acompaña»"}
    assert names(text="PISOS") == {"Programa de vivienda"}


def test_filters_by_territory_keep_the_resources_of_the_wider_territory(catalogue):
    assert names(community_code="17") == {"Empleo joven La Rioja"}
    valladolid = Province.objects.get(code=VALLADOLID_PROVINCE)
    assert names(province=valladolid) == {
        "Orientación sociolaboral «Acompaña»",
        "Programa de vivienda",
    }
    leon_town = (
        Municipality.objects.select_related("province").filter(province_id=LEON_PROVINCE).first()
    )
    assert names(municipality=leon_town) == {
        "Orientación sociolaboral «Acompaña»",
        "Formación en León",
    }


def test_filter_by_target_group(catalogue):
    assert names(target_group=Resource.TargetGroup.HOMELESS) == {"Programa de vivienda"}


def test_inactive_resources_are_left_out(catalogue):
    assert "Orientación antigua" not in names()


def test_the_search_page_filters_and_keeps_the_query_in_the_pager(
    catalogue, social_worker, client_for
):
    client = client_for(social_worker)
    response = client.get(
        reverse("coordination:resource_list"), {"q": "vivienda", "colectivo": "homeless"}
    )
    assert [r.name for r in response.context["page"].object_list] == ["Programa de vivienda"]
    assert response.context["query"] == "q=vivienda&colectivo=homeless"
    response = client.get(reverse("coordination:resource_list"), {"q": "ORIENTACION"})
    assert [r.name for r in response.context["page"].object_list] == [
        "Orientación sociolaboral «Acompaña»"
    ]


@pytest.mark.parametrize(
    "persona",
    [
        "social_worker",
        "employment_counsellor",
        "ngo_technician",
        "coordinator",
        "evaluator",
        "dpo",
        "administrator",
    ],
)
def test_staff_of_any_role_can_view(persona, catalogue, client_for, request):
    """Everyone reads the resource map; NGO technicians read it inside their portal."""
    client = client_for(request.getfixturevalue(persona))
    namespace = "portal" if persona == "ngo_technician" else "coordination"
    resource = catalogue["vivienda"].pk
    assert client.get(reverse(f"{namespace}:resource_list")).status_code == 200
    assert client.get(reverse(f"{namespace}:resource_detail", args=[resource])).status_code == 200
    if persona == "ngo_technician":
        assert client.get(reverse("coordination:resource_list")).status_code == 404


def test_a_user_without_a_role_gets_a_404(catalogue, outsider, client_for):
    client = client_for(outsider)
    assert client.get(reverse("coordination:resource_list")).status_code == 404
    assert client.get(catalogue["vivienda"].get_absolute_url()).status_code == 404


def resource_form(owner, **extra) -> dict:
    return {
        "name": "Banco de alimentos",
        "owner_organisation": owner.pk,
        "description": "Reparto mensual",
        "community": "07",
        "province": "",
        "municipality": "47186",
        "target_group": "families",
        "eligibility": "",
        "places": "40",
        "funding_source": "local",
        "start_date": "01/01/2025",
        "end_date": "",
        "contact": "983 000 000",
        "is_active": "on",
        **extra,
    }


@pytest.mark.parametrize(
    "persona", ["social_worker", "employment_counsellor", "ngo_technician", "evaluator", "dpo"]
)
def test_only_coordinators_and_administrators_edit(persona, catalogue, ngo, client_for, request):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("coordination:resource_create")).status_code == 404
    assert (
        client.post(reverse("coordination:resource_create"), resource_form(ngo)).status_code == 404
    )
    url = reverse("coordination:resource_edit", args=[catalogue["vivienda"].pk])
    assert client.post(url, resource_form(ngo, name="Cambiado")).status_code == 404
    assert not Resource.objects.filter(name__in=["Banco de alimentos", "Cambiado"]).exists()


def test_a_coordinator_creates_and_edits_resources_of_their_community(
    catalogue, ngo, coordinator, client_for
):
    client = client_for(coordinator)
    response = client.post(reverse("coordination:resource_create"), resource_form(ngo))
    assert response.status_code == 302
    created = Resource.objects.get(name="Banco de alimentos")
    assert created.province_id == VALLADOLID_PROVINCE  # taken from the municipality
    response = client.post(
        reverse("coordination:resource_edit", args=[created.pk]),
        resource_form(ngo, name="Banco de alimentos del barrio"),
    )
    assert response.status_code == 302
    assert (
        client.get(reverse("coordination:resource_edit", args=[catalogue["rioja"].pk])).status_code
        == 404
    )
    response = client.post(
        reverse("coordination:resource_create"),
        resource_form(ngo, name="Otro", community="17", municipality=""),
    )
    assert "Solo puede registrar recursos de su comunidad autónoma." in response.content.decode()


def test_an_administrator_edits_any_resource(catalogue, ngo, administrator, client_for):
    url = reverse("coordination:resource_edit", args=[catalogue["rioja"].pk])
    response = client_for(administrator).post(
        url, resource_form(ngo, community="17", municipality="", name="Empleo joven")
    )
    assert response.status_code == 302
    assert Resource.objects.filter(name="Empleo joven", community_id="17").exists()


def test_bad_input_is_explained_in_spanish_and_kept(coordinator, ngo, client_for):
    response = client_for(coordinator).post(
        reverse("coordination:resource_create"),
        resource_form(ngo, municipality="99999", start_date="31/12/2025", end_date="01/01/2025"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "No hay ningún municipio con ese código INE." in html
    assert 'value="Banco de alimentos"' in html
    assert not Resource.objects.filter(name="Banco de alimentos").exists()
