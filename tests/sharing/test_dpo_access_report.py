"""The data protection officer's access report (RGPD art. 15): who saw what of a person.

Every line of the disclosure log about the person is in it, newest first: the page shows them
by pages and says how many there are in all, and the CSV download holds every one. Nobody but
the data protection officer opens either.
"""

from __future__ import annotations

import csv
import io

import pytest

from ris.accounts.models import Role
from sharing import views
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import DisclosureLogEntry
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db


def log(person, n: int) -> None:
    disclosure_log_append([
        LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel="web", person_id=person.pk,
                category="salud", level="full", purpose="seguimiento", basis=f"consent:{i}")
        for i in range(1, n + 1)
    ])


def report_url(person) -> str:
    return f"/dpd/personas/{person.pk}/accesos/"


def test_the_page_says_how_many_lines_there_are_and_shows_them_by_pages(client_for, dpo, monkeypatch):
    monkeypatch.setattr(views, "ACCESS_REPORT_PAGE", 2)
    person = PersonFactory()
    log(person, 5)
    client = client_for(dpo)
    first = client.get(report_url(person)).content.decode()
    assert "5 accesos registrados: esta página muestra del 1 al 2" in first
    assert first.count("consent:") == 2 and "consent:5" in first and "consent:4" in first
    assert "Página 1 de 3" in first and '?pagina=2"' in first
    last = client.get(report_url(person), {"pagina": 3}).content.decode()
    assert "del 5 al 5" in last and "consent:1" in last and last.count("consent:") == 1


def test_the_csv_holds_every_line(client_for, dpo, monkeypatch):
    monkeypatch.setattr(views, "ACCESS_REPORT_PAGE", 2)
    person = PersonFactory()
    log(person, 5)
    response = client_for(dpo).get(f"/dpd/personas/{person.pk}/accesos.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Fecha y hora"
    assert [r[7] for r in rows[1:]] == [f"consent:{i}" for i in range(5, 0, -1)]


def test_the_page_costs_the_same_for_few_and_many_lines(client_for, dpo, django_assert_max_num_queries):
    person = PersonFactory()
    client = client_for(dpo)
    log(person, 2)
    client.get(report_url(person))
    with django_assert_max_num_queries(12) as few:
        client.get(report_url(person))
    log(person, 40)
    with django_assert_max_num_queries(12) as many:
        client.get(report_url(person))
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.COORDINATOR, Role.EVALUATOR])
def test_nobody_else_opens_the_report_or_its_csv(role, client_for):
    person = PersonFactory()
    log(person, 1)
    client = client_for(MembershipFactory(role=role).user)
    for url in (report_url(person), f"/dpd/personas/{person.pk}/accesos.csv"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert b"consent:1" not in response.content


def test_an_unknown_person_is_a_404_for_the_report_and_its_csv(client_for, dpo):
    client = client_for(dpo)
    missing = PersonFactory().pk + 1000
    assert client.get(f"/dpd/personas/{missing}/accesos/").status_code == 404
    assert client.get(f"/dpd/personas/{missing}/accesos.csv").status_code == 404
