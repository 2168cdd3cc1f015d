"""A change to a person's data re-evaluates that person's alerts.

Every write service that touches what an alert rule reads (the record's sections and basic
sheet, consents and objections, referrals, joint plans and their actions) queues
``diagnostics.evaluate_person`` for the person once its transaction commits; nothing is
queued when the transaction rolls back, and a Redis outage never costs the user their save.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import models as m
from cases import services as case_services
from consent import services as consent_services
from consent.models import LegalBasis
from consent.purposes import Purpose
from coordination import services as coordination_services
from diagnostics import tasks
from ris.accounts.viewer import Viewer

from .conftest import today
from .test_tasks import unreachable_broker  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks):
    """The person ids published to the broker by the callbacks of one committed block."""
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.evaluate_person, "apply_async", lambda args, **kw: sent.append(args[0])
    )

    class Capture:
        ids = sent

        def __enter__(self):
            self._cm = django_capture_on_commit_callbacks(execute=True)
            self._cm.__enter__()
            sent.clear()
            return sent

        def __exit__(self, *exc):
            return self._cm.__exit__(*exc)

    return Capture()


def _consent_for_employment(world, person):
    return consent_services.consent_record(
        viewer=viewer_of(world.social_worker),
        person=person,
        given_on=today(),
        valid_from=today(),
        valid_until=today() + dt.timedelta(days=365),
        purposes=[Purpose.REFERRAL, Purpose.FOLLOW_UP, Purpose.ITINERARY, Purpose.PREVENTION],
        grantee_services=["employment"],
        all_categories=True,
    )


def test_a_new_section_entry_queues_the_person(world, published):
    person = world.person()
    with published as sent:
        case_services.entry_create(
            viewer=viewer_of(world.social_worker),
            model=m.DiaryEntry,
            person_id=person.pk,
            data={"kind": "interview", "happened_at": timezone.now() - dt.timedelta(hours=1)},
        )
    assert sent == [person.pk]


def test_an_edited_entry_and_an_edited_basic_sheet_queue_the_person(world, published):
    person = world.person()
    viewer = viewer_of(world.social_worker)
    entry = case_services.entry_create(
        viewer=viewer,
        model=m.DiaryEntry,
        person_id=person.pk,
        data={"kind": "interview", "happened_at": timezone.now() - dt.timedelta(hours=1)},
    )
    with published as sent:
        case_services.entry_update(
            viewer=viewer, entry=entry, version=entry.version, data={"kind": "home_visit"}
        )
        case_services.person_update(
            viewer=viewer, person=person, version=person.version, data={"phone": "600111222"}
        )
    assert sent == [person.pk, person.pk]


def test_a_write_that_fails_validation_queues_nothing(world, published):
    person = world.person()
    with published as sent, pytest.raises(ValidationError):
        case_services.entry_create(
            viewer=viewer_of(world.social_worker),
            model=m.DiaryEntry,
            person_id=person.pk,
            data={"kind": "interview", "happened_at": timezone.now() + dt.timedelta(days=3)},
        )
    assert sent == []


def test_a_rolled_back_write_queues_nothing(world, published):
    person = world.person()
    with published as sent:
        with pytest.raises(RuntimeError), transaction.atomic():
            case_services.entry_create(
                viewer=viewer_of(world.social_worker),
                model=m.DiaryEntry,
                person_id=person.pk,
                data={"kind": "interview", "happened_at": timezone.now() - dt.timedelta(hours=1)},
            )
            raise RuntimeError("rolled back")
    assert sent == []


def test_recording_and_revoking_a_consent_queue_the_person(world, published):
    person = world.person()
    with published as sent:
        consent = _consent_for_employment(world, person)
    assert sent == [person.pk]
    with published as sent:
        consent_services.consent_revoke(
            viewer=viewer_of(world.social_worker), consent=consent, channel="in_person"
        )
    assert sent == [person.pk]


def test_an_objection_queues_the_person(world, published):
    person = world.person()
    basis = LegalBasis.objects.create(
        name="Ley autonómica de prueba",
        reference="Ley 0/2026",
        community=world.social.community,
        from_service="social",
        to_service="employment",
        mode=LegalBasis.Mode.UNLESS_OBJECTION,
        categories=["unidad_convivencia"],
        purposes=[Purpose.FOLLOW_UP],
    )
    with published as sent:
        consent_services.objection_record(
            viewer=viewer_of(world.social_worker), person=person, legal_basis=basis
        )
    assert sent == [person.pk]


def test_referrals_and_plans_queue_the_person(world, published):
    person = world.person()
    _consent_for_employment(world, person)
    social = viewer_of(world.social_worker)
    employment = viewer_of(world.employment_counsellor)
    with published as sent:
        referral = coordination_services.referral_send(
            viewer=social,
            person_id=person.pk,
            to_organisation_id=world.employment.pk,
            reason="Búsqueda activa de empleo",
            categories=["unidad_convivencia"],
        )
    assert sent == [person.pk]
    with published as sent:
        coordination_services.referral_accept(viewer=employment, referral_id=referral.pk)
    assert sent == [person.pk]
    with published as sent:
        coordination_services.plan_create(
            viewer=social,
            person_id=person.pk,
            title="Itinerario conjunto",
            start_date=today(),
            review_date=today() + dt.timedelta(days=90),
            organisation_ids=[world.employment.pk],
        )
    assert sent == [person.pk]


def test_a_section_saved_while_redis_is_down_is_kept_and_left_to_the_sweep(
    world, client_for, unreachable_broker, caplog, django_capture_on_commit_callbacks  # noqa: F811
):
    person = world.person()
    happened = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%d/%m/%Y %H:%M")
    with caplog.at_level(logging.WARNING, logger="diagnostics.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(world.social_worker).post(
                f"/espacio/personas/{person.pk}/secciones/diaryentry/nueva/",
                {"kind": "interview", "happened_at": happened, "demand": "Entrevista de acogida"},
            )
    assert response.status_code == 302
    assert m.DiaryEntry.objects.filter(person=person).count() == 1
    assert f"No se ha podido encolar la evaluación de alertas de la persona {person.pk}" in caplog.text
