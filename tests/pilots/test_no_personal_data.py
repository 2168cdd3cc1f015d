"""An evaluator never reaches a person: no route, no export, no report.

1. Every URL pattern of the project that takes a person's id answers 404 to an evaluator
   (GET and POST), even for a person their own organisation attends; every other route
   that takes an identifier answers 404 as well, but the resource catalogue (which holds
   no personal data). The Django admin sends them to its login page.
2. Every page and download of the evaluation app holds no name, document or id of any
   person of the world it was computed from.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import Person
from pilots import report
from tests.factories import PersonFactory

from .conftest import enrol_on

pytestmark = pytest.mark.django_db

EVALUATION_NAMESPACE = "evaluation"
NON_PERSONAL_IDENTIFIERS = {"resource_id"}  # the resource catalogue: programmes, not persons
PERIOD = {"periodo": "2026"}


def patterns(resolver: URLResolver, prefix: str = "", namespaces: tuple[str, ...] = ()):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from patterns(entry, prefix + str(entry.pattern), namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespaces, entry


def converters(route: str) -> list[tuple[str, str]]:
    return re.findall(r"<(?:(\w+):)?(\w+)>", route)


def fill(route: str, value: int) -> str:
    """The route with every parameter filled with ``value`` (numbers) or a plausible word."""

    def one(match):
        kind = match.group(1) or "str"
        return str(value) if kind in ("int", "path") else "informe"

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)


def routes_with_identifiers():
    for route, namespaces, _pattern in patterns(get_resolver()):
        if "admin" in namespaces or EVALUATION_NAMESPACE in namespaces or route.startswith("^"):
            continue
        names = [name for _kind, name in converters(route)]
        if names:
            yield route, names


@pytest.fixture
def attended_person(evaluator, regional_office) -> Person:
    """A person attended by the evaluator's own organisation: still none of their business."""
    person = PersonFactory()
    enrol_on(person, regional_office, dt.date(2026, 1, 10))
    return person


def test_the_walk_finds_the_person_routes():
    person_routes = [route for route, names in routes_with_identifiers() if "person_id" in names]
    assert "api/v1/persons/<int:person_id>/record/" in person_routes
    assert len(person_routes) >= 5


def test_every_route_taking_a_person_id_is_a_404_for_an_evaluator(client_for, evaluator, attended_person):
    client = client_for(evaluator)
    checked = []
    for route, names in routes_with_identifiers():
        if not any("person" in name for name in names):
            continue
        url = fill(route, attended_person.pk)
        statuses = (client.get(url).status_code, client.post(url).status_code)
        assert set(statuses) <= {404, 405} and 404 in statuses, (url, statuses)
        checked.append(url)
    assert checked


def test_every_other_route_taking_an_identifier_is_a_404_for_an_evaluator(client_for, evaluator, attended_person):
    client = client_for(evaluator)
    for route, names in routes_with_identifiers():
        if set(names) & NON_PERSONAL_IDENTIFIERS:
            continue
        url = fill(route, attended_person.pk)
        statuses = (client.get(url).status_code, client.post(url).status_code)
        assert set(statuses) <= {404, 405} and 404 in statuses, (url, statuses)


def test_the_admin_sends_an_evaluator_to_its_login_page(client_for, evaluator, attended_person):
    client = client_for(evaluator)
    login = reverse("admin:login")
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        urls.append(reverse(f"{base}_change", args=[attended_person.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(login), url


# --- Exports ------------------------------------------------------------------------------------------


@pytest.fixture
def identifiable_world(pilot, social_services_centre, employment_office):
    """Persons with names, documents and ids that cannot appear by chance in a table of counts."""
    people = []
    for n in range(8):
        person = PersonFactory(
            id=987_654_000 + n, first_name=f"Zacarías{n}", last_name_1=f"Quintanilla{n}", last_name_2="Ybarra",
            birth_date=dt.date(1977, 7, 17),
        )
        enrol_on(person, social_services_centre, dt.date(2026, 2, 3))
        if n < 5:
            enrol_on(person, employment_office, dt.date(2026, 3, 3))
        people.append(person)
    return people


def forbidden_strings(people: list[Person]) -> list[str]:
    strings = []
    for person in people:
        strings += [person.first_name, person.last_name_1, person.last_name_2, person.document_number,
                    str(person.pk), person.birth_date.strftime("%d/%m/%Y")]
    return strings


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    return "\n".join(
        str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row
        if value is not None
    )


def test_no_export_page_or_report_carries_a_person(client_for, evaluator, pilot, identifiable_world, monkeypatch):
    monkeypatch.setattr(report, "PAGE_COMPRESSION", 0)  # the PDF's text readable as bytes
    client = client_for(evaluator)
    outputs = {}
    for name in ("dashboard", "esf", "follow_ups"):
        outputs[name] = client.get(reverse(f"evaluation:{name}", args=[pilot.pk]), PERIOD).content.decode()
    for dataset in ("indicadores", "fse"):
        outputs[f"{dataset}.csv"] = client.get(
            reverse("evaluation:download", args=[pilot.pk, dataset, "csv"]), PERIOD).content.decode("utf-8-sig")
        outputs[f"{dataset}.xlsx"] = xlsx_text(client.get(
            reverse("evaluation:download", args=[pilot.pk, dataset, "xlsx"]), PERIOD).content)
    pdf = client.get(reverse("evaluation:report", args=[pilot.pk]), PERIOD).content
    outputs["informe.pdf"] = pdf.decode("latin-1")
    assert "Personas atendidas" in outputs["informe.pdf"]  # the check can see the report's text

    assert "8" in outputs["indicadores.csv"]  # the world is in there, as a count
    for name, text in outputs.items():
        for forbidden in forbidden_strings(identifiable_world):
            assert forbidden not in text, (name, forbidden)
        for header in ("person_id", "persona_id", "document_number", "DNI"):
            assert header not in text, (name, header)
