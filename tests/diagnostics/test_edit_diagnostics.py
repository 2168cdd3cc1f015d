"""The organisation that recorded an assessment edits it; nobody else can (404).

Every edit carries the version the form was read at (the optimistic locking of the record's
sections: ``ServiceEntry.version`` and ``cases.services.StaleVersion``). A second person who
saves a stale form is told so in Spanish (409), sees what they typed next to what is saved
now, and nothing is lost: the saved entry stays as the first person left it and the form
keeps what the second typed. An edit is in the change history and re-evaluates the person's
alerts once it commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from cases.services import StaleVersion
from diagnostics import services, tasks
from diagnostics.models import (
    BasicEmployabilityScreening,
    EmployabilityAssessment,
    ExclusionAreaResult,
    ExclusionAssessment,
    Instrument,
    Item,
)
from ris.accounts.models import Role, ServiceKind
from ris.accounts.viewer import Viewer
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, enrol

from .conftest import today
from .test_record_diagnostics import ANSWERS, agreement, dmy, screening

pytestmark = pytest.mark.django_db

STALE = "Otra persona ha guardado cambios en esta ficha mientras la editaba."


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def colleague(organisation, role) -> object:
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def queued(monkeypatch, django_capture_on_commit_callbacks):
    """The person ids queued for evaluation by the requests made inside the block."""
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.evaluate_person, "apply_async", lambda args, **kw: sent.append(args[0])
    )

    class Capture:
        def __enter__(self):
            self._cm = django_capture_on_commit_callbacks(execute=True)
            self._cm.__enter__()
            return sent

        def __exit__(self, *exc):
            return self._cm.__exit__(*exc)

    return Capture()


# --- The employability diagnosis ------------------------------------------------------------------


def diagnosis(world, person, **values):
    return world.entry(
        EmployabilityAssessment,
        person,
        by="employment",
        assessed_on=today() - dt.timedelta(days=10),
        level="low",
        suggested_level="low",
        age=50,
        factors="VALOR-INICIAL",
        **values,
    )


def diagnosis_url(entry) -> str:
    return f"/espacio/personas/{entry.person_id}/diagnosticos/empleabilidad/{entry.pk}/"


def diagnosis_data(version, **values) -> dict:
    return {
        "assessed_on": dmy(today()),
        "level": "medium",
        "months_unemployed": "3",
        "age": "50",
        "languages": "es",
        "months_worked_last_two_years": "12",
        "driving_licence": "on",
        "factors": "VALOR-EDITADO",
        "version": str(version),
        **values,
    }


def test_the_orientador_edits_the_diagnosis_of_their_office(client_for, world, queued):
    person = world.person(attended_by=("employment",))
    entry = diagnosis(world, person)
    client = client_for(world.employment_counsellor)

    form = client.get(diagnosis_url(entry)).content.decode()
    assert "Editar: diagnóstico de empleabilidad" in form
    assert 'name="version" value="1"' in form and "VALOR-INICIAL" in form
    assert '<option value="low" selected>' in form

    with queued as sent:
        response = client.post(diagnosis_url(entry), diagnosis_data(1))
    assert response.status_code == 302
    assert response.url == f"/espacio/personas/{person.pk}/#cat-empleabilidad-employment"
    entry.refresh_from_db()
    assert (entry.level, entry.factors, entry.version, entry.assessed_on) == (
        "medium",
        "VALOR-EDITADO",
        2,
        today(),
    )
    # the suggestion is computed again: no education level (+2), no occupation (+1), age 50 (+1)
    assert entry.suggested_level == "medium"
    assert entry.recorded_by_org == world.employment
    assert sent == [person.pk]  # re-evaluated once the save committed

    [change] = LogEntry.objects.get_for_object(entry).filter(action=LogEntry.Action.UPDATE)
    assert change.changes_dict["level"] == ["low", "medium"]
    assert change.actor == world.employment_counsellor


def test_a_stale_save_is_refused_and_nothing_is_lost(client_for, world):
    person = world.person(attended_by=("employment",))
    entry = diagnosis(world, person)
    first = client_for(world.employment_counsellor)
    second = client_for(colleague(world.employment, Role.EMPLOYMENT_COUNSELLOR))
    for client in (first, second):  # both open the form at version 1
        assert 'name="version" value="1"' in client.get(diagnosis_url(entry)).content.decode()

    saved = first.post(diagnosis_url(entry), diagnosis_data(1, factors="VALOR-PRIMERA"))
    assert saved.status_code == 302
    stale = second.post(
        diagnosis_url(entry), diagnosis_data(1, level="high", factors="VALOR-SEGUNDA")
    )
    assert stale.status_code == 409
    html = stale.content.decode()
    assert STALE in html and "Sus datos no se han perdido" in html
    assert "Alguien ha guardado cambios mientras usted editaba" in html
    assert "VALOR-SEGUNDA" in html and "VALOR-PRIMERA" in html  # typed, and saved now
    assert 'name="version" value="2"' in html  # the kept form now carries the current version
    entry.refresh_from_db()
    assert (entry.level, entry.factors, entry.version) == ("medium", "VALOR-PRIMERA", 2)

    # saving the kept form again replaces the saved version, knowingly
    again = second.post(
        diagnosis_url(entry), diagnosis_data(2, level="high", factors="VALOR-SEGUNDA")
    )
    assert again.status_code == 302
    entry.refresh_from_db()
    assert (entry.level, entry.factors, entry.version) == ("high", "VALOR-SEGUNDA", 3)
    assert LogEntry.objects.get_for_object(entry).filter(action=LogEntry.Action.UPDATE).count() == 2


def test_the_service_refuses_a_stale_version(world):
    person = world.person(attended_by=("employment",))
    entry = diagnosis(world, person)
    data = {
        "assessed_on": today(),
        "level": "high",
        "months_unemployed": None,
        "age": 50,
        "languages": ["es"],
        "driving_licence": False,
        "months_worked_last_two_years": 0,
    }
    viewer = viewer_of(world.employment_counsellor)
    services.employability_assessment_update(viewer=viewer, entry=entry, version=1, **data)
    with pytest.raises(StaleVersion):
        services.employability_assessment_update(viewer=viewer, entry=entry, version=1, **data)
    assert EmployabilityAssessment.objects.get(pk=entry.pk).version == 2


def test_nobody_else_can_edit_it(client_for, world, social_worker, coordinator):
    person = world.person(attended_by=("social", "employment"))
    entry = diagnosis(world, person)
    other_office = OrganisationFactory(kind=ServiceKind.EMPLOYMENT)
    enrol(person, other_office)
    outsiders = [
        colleague(other_office, Role.EMPLOYMENT_COUNSELLOR),  # the same service, another office
        social_worker,
        coordinator,
    ]
    for user in outsiders:
        client = client_for(user)
        client.raise_request_exception = False
        assert client.get(diagnosis_url(entry)).status_code == 404, user
        assert client.post(diagnosis_url(entry), diagnosis_data(1)).status_code == 404, user
    # the owner, with the entry under another person's address: the same 404
    other_person = world.person(attended_by=("employment",))
    client = client_for(world.employment_counsellor)
    wrong = f"/espacio/personas/{other_person.pk}/diagnosticos/empleabilidad/{entry.pk}/"
    assert client.get(wrong).status_code == 404
    # and not once the office no longer attends the person
    stranger = world.person(attended_by=())
    theirs = diagnosis(world, stranger)
    assert client.get(diagnosis_url(theirs)).status_code == 404
    entry.refresh_from_db()
    assert (entry.level, entry.version) == ("low", 1)


# --- The basic screening (any service, each its own) ----------------------------------------------


def screening_data(version, **values) -> dict:
    return {
        "screened_on": dmy(today()),
        **ANSWERS,
        "notes": "VALOR-EDITADO",
        "version": version,
        **values,
    }


def test_an_ngo_edits_its_screening_in_the_portal_and_social_services_cannot(
    client_for, world, queued
):
    person = world.person(attended_by=("social", "ngo"))
    agreement(world.ngo)
    entry = screening(world, person, "ngo")
    url = f"/portal/personas/{person.pk}/diagnosticos/cribado/{entry.pk}/"
    client = client_for(world.ngo_technician)
    form = client.get(url).content.decode()
    assert 'name="version" value="1"' in form and "no sustituye al diagnóstico" in form
    with queued as sent:
        response = client.post(url, screening_data(1, speaks_spanish="no"))
    assert response.status_code == 302
    assert response.url == f"/portal/personas/{person.pk}/#cat-empleabilidad-third_sector"
    entry.refresh_from_db()
    assert not entry.speaks_spanish and entry.result == "low"  # four answers "no" now
    assert (entry.notes, entry.version, sent) == ("VALOR-EDITADO", 2, [person.pk])

    social = client_for(world.social_worker)
    social.raise_request_exception = False
    workspace = f"/espacio/personas/{person.pk}/diagnosticos/cribado/{entry.pk}/"
    assert social.get(workspace).status_code == 404
    assert social.post(workspace, screening_data(2)).status_code == 404
    assert client.get(workspace).status_code == 404  # the NGO only in its portal


def test_social_services_edit_their_own_screening(client_for, world):
    person = world.person(attended_by=("social",))
    entry = screening(world, person, "social")
    url = f"/espacio/personas/{person.pk}/diagnosticos/cribado/{entry.pk}/"
    client = client_for(world.social_worker)
    stale = client.post(url, screening_data(1, notes="A"))
    assert stale.status_code == 302
    refused = client.post(url, screening_data(1, notes="B"))
    assert refused.status_code == 409 and STALE in refused.content.decode()
    assert BasicEmployabilityScreening.objects.get(pk=entry.pk).notes == "A"


# --- The social exclusion assessment --------------------------------------------------------------


def test_the_social_worker_edits_an_assessment_rescoring_only_changed_answers(client_for, world):
    person = world.person(attended_by=("social",))
    client = client_for(world.social_worker)
    foessa = Instrument.objects.get(code="foessa-35")
    employment_items = list(Item.objects.filter(area__instrument=foessa, area__kind="employment"))
    housing_items = list(Item.objects.filter(area__instrument=foessa, area__kind="housing"))
    data = {
        "assessed_on": dmy(today()),
        "area_employment": [str(employment_items[0].pk)],
        "area_housing": [str(housing_items[0].pk)],
        "notes": "VALOR-VALORACION",
    }
    created = client.post(f"/espacio/personas/{person.pk}/diagnosticos/exclusion/nueva/", data)
    assert created.status_code == 302
    entry = ExclusionAssessment.objects.get(person=person)
    url = f"/espacio/personas/{person.pk}/diagnosticos/exclusion/{entry.pk}/"
    total = entry.total_score

    form = client.get(url).content.decode()
    assert 'name="version" value="1"' in form
    assert f'value="{housing_items[0].pk}"' in form and "checked" in form
    assert "Cambiar de instrumento" not in form  # the instrument of an assessment stays

    # the instrument changes its scores afterwards: an edit that keeps the answers keeps them too
    Item.objects.filter(pk=housing_items[0].pk).update(score=Decimal(5))
    kept = client.post(url, {**data, "notes": "SOLO-NOTAS", "version": "1"})
    assert kept.status_code == 302
    entry.refresh_from_db()
    assert (entry.total_score, entry.notes, entry.version) == (total, "SOLO-NOTAS", 2)

    # changed answers are scored again with the instrument as it is now
    more = {**data, "area_housing": [str(i.pk) for i in housing_items[:2]], "version": "2"}
    assert client.post(url, more).status_code == 302
    entry.refresh_from_db()
    expected = sum(
        Item.objects.get(pk=pk).score
        for pk in (employment_items[0].pk, housing_items[0].pk, housing_items[1].pk)
    )
    assert entry.total_score == expected and entry.version == 3
    assert entry.answers.filter(present=True).count() == 3
    housing = ExclusionAreaResult.objects.get(assessment=entry, area__kind="housing")
    assert housing.score == Item.objects.get(pk=housing_items[1].pk).score + 5

    other_worker_office = OrganisationFactory(kind=ServiceKind.SOCIAL)
    enrol(person, other_worker_office)
    outsider = client_for(colleague(other_worker_office, Role.SOCIAL_WORKER))
    outsider.raise_request_exception = False
    assert outsider.get(url).status_code == 404
    counsellor = client_for(world.employment_counsellor)
    counsellor.raise_request_exception = False
    assert counsellor.get(url).status_code == 404


# --- The way in: an "Editar" link on the record, for the recording organisation only ------------


def test_the_record_offers_the_edit_link_only_to_the_recording_office(client_for, world):
    person = world.person(attended_by=("employment",))
    entry = diagnosis(world, person)
    link = f'href="{diagnosis_url(entry)}"'
    page = client_for(world.employment_counsellor).get(f"/espacio/personas/{person.pk}/")
    assert link in page.content.decode()

    other_office = OrganisationFactory(kind=ServiceKind.EMPLOYMENT)
    enrol(person, other_office)
    other = client_for(colleague(other_office, Role.EMPLOYMENT_COUNSELLOR))
    body = other.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert "VALOR-INICIAL" in body  # the same service sees the diagnosis ...
    assert link not in body and "/diagnosticos/empleabilidad/" + str(entry.pk) not in body  # ... not the edit


def test_the_portal_record_links_the_ngo_to_its_own_screening(client_for, world):
    person = world.person(attended_by=("ngo",))
    agreement(world.ngo)
    entry = screening(world, person, "ngo")
    body = client_for(world.ngo_technician).get(f"/portal/personas/{person.pk}/").content.decode()
    assert f'href="/portal/personas/{person.pk}/diagnosticos/cribado/{entry.pk}/"' in body
    assert "/espacio/" not in body.split("<main", 1)[-1]


EDIT_PAGE_QUERIES = 12


def test_the_edit_pages_read_in_a_constant_number_of_queries(
    client_for, world, django_assert_max_num_queries
):
    """The exclusion form lists every item of the instrument with the stored answers: the same
    queries for one answer ticked as for every item of an area."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = world.person(attended_by=("social",))
    client = client_for(world.social_worker)
    foessa = Instrument.objects.get(code="foessa-35")
    items = list(Item.objects.filter(area__instrument=foessa, area__kind="housing"))
    counts = []
    for ticked in (items[:1], items):
        created = client.post(
            f"/espacio/personas/{person.pk}/diagnosticos/exclusion/nueva/",
            {"assessed_on": dmy(today()), "area_housing": [str(i.pk) for i in ticked]},
        )
        assert created.status_code == 302
        entry = ExclusionAssessment.objects.filter(person=person).latest("pk")
        url = f"/espacio/personas/{person.pk}/diagnosticos/exclusion/{entry.pk}/"
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] <= EDIT_PAGE_QUERIES, counts

    diagnosis_entry = diagnosis(world, world.person(attended_by=("employment",)))
    counsellor = client_for(world.employment_counsellor)
    with django_assert_max_num_queries(EDIT_PAGE_QUERIES):
        assert counsellor.get(diagnosis_url(diagnosis_entry)).status_code == 200
