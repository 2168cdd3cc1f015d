"""Celery: thin idempotent tasks, retried on database errors, queued on commit; a broker outage
never breaks the web; the nightly sweep is on the beat schedule."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError, transaction

from diagnostics import services, tasks
from diagnostics.models import Alert, BasicEmployabilityScreening
from ris.celery import app
from sharing.models import Enrolment

from .conftest import today

UNREACHABLE = "redis://127.0.0.1:1/0"


def test_the_nightly_sweep_is_on_the_beat_schedule_at_02_30_madrid_time():
    entry = settings.CELERY_BEAT_SCHEDULE["diagnostics-nightly-sweep"]
    assert entry["task"] == tasks.nightly_sweep.name == "diagnostics.nightly_sweep"
    assert entry["schedule"] == crontab(hour=2, minute=30)
    assert (
        app.conf.beat_schedule["diagnostics-nightly-sweep"]["task"] == "diagnostics.nightly_sweep"
    )
    assert app.conf.timezone == settings.CELERY_TIMEZONE == "Europe/Madrid"


@pytest.mark.parametrize("task", [tasks.evaluate_person, tasks.nightly_sweep])
def test_tasks_are_retried_on_database_errors(task):
    assert OperationalError in task.autoretry_for
    assert task.max_retries == 5 and task.acks_late


@pytest.mark.django_db
def test_evaluate_person_is_idempotent(world):
    person = world.person()
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.consent(person)
    first = tasks.evaluate_person.apply(args=(person.pk,)).get()
    again = tasks.evaluate_person.apply(args=(person.pk,)).get()
    assert first["created"] >= 1 and again["created"] == 0
    assert Alert.objects.filter(person=person, rule__code="sin_contacto").count() == 1
    assert tasks.evaluate_person.apply(args=(999999,)).get()["skipped"]


@pytest.mark.django_db
def test_a_database_error_is_retried_then_raised(monkeypatch):
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise OperationalError("la base de datos no responde")

    monkeypatch.setattr(services, "alerts_evaluate", failing)
    result = tasks.nightly_sweep.apply()
    assert isinstance(result.result, OperationalError)
    assert len(calls) == tasks.nightly_sweep.max_retries + 1


def _break_rule(monkeypatch, code: str) -> None:
    """The rule's SQL reads a table that does not exist: a ProgrammingError at every run."""
    from diagnostics import rules

    definition = rules.RULES[code]

    def broken(params, ctx):
        sql, facts, extra = definition.build(params, ctx)
        return f"SELECT person_id FROM no_such_table WHERE FALSE AND EXISTS ({sql})", facts, extra

    monkeypatch.setitem(
        rules.RULES, code, rules.RuleDef(**{**definition.__dict__, "build": broken})
    )


@pytest.mark.django_db
def test_a_failing_rule_does_not_stop_the_others_but_the_task_ends_in_error(
    world, monkeypatch, caplog
):
    person = world.person()
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.consent(person)
    _break_rule(monkeypatch, "consentimiento_caduca")  # runs before "sin_contacto"
    with caplog.at_level(logging.ERROR, logger="diagnostics.services"):
        result = tasks.nightly_sweep.apply()
    assert isinstance(result.result, services.SweepFailed)  # monitoring sees it; not retried
    errors = result.result.errors
    assert set(errors) == {"consentimiento_caduca"}
    assert "ProgrammingError" in errors["consentimiento_caduca"]
    assert "Alert rule consentimiento_caduca failed" in caplog.text
    # the rules after it ran, and what they did is kept
    assert Alert.objects.filter(person=person, rule__code="sin_contacto").exists()
    # a person's evaluation too
    assert isinstance(
        tasks.evaluate_person.apply(args=(person.pk,)).result, services.SweepFailed
    )


@pytest.mark.django_db
def test_a_lost_connection_still_aborts_the_sweep(world, monkeypatch):
    person = world.person()
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_deliver", lost)
    with pytest.raises(OperationalError):
        services.alerts_evaluate(codes=["consentimiento_caduca", "sin_contacto"])
    assert not Alert.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_queued_only_when_the_transaction_commits(monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(
        tasks.evaluate_person, "apply_async", lambda args, **kw: published.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            tasks.queue_person_evaluation(41)
            assert published == []
    assert published == [(41,)]
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.queue_person_evaluation(42)
        raise RuntimeError
    assert published == [(41,)]


@pytest.fixture
def unreachable_broker(settings):
    """CELERY_BROKER_URL pointing at a port where nothing listens, for the running Celery app too
    (its configuration reads Django's settings lazily, so the real URL is kept before overriding)."""
    original = app.conf.broker_url

    def use(url):
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    settings.CELERY_BROKER_URL = UNREACHABLE
    use(UNREACHABLE)
    yield
    use(original)
    assert app.conf.broker_url == original != UNREACHABLE


@pytest.mark.django_db
def test_queueing_with_redis_down_does_not_raise(
    unreachable_broker, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.WARNING, logger="diagnostics.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.queue_person_evaluation(7)
    assert "No se ha podido encolar la evaluación de alertas de la persona 7" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.urls("tests.diagnostics.outage_urls")
def test_a_request_that_writes_still_succeeds_with_redis_down(
    world, client_for, unreachable_broker, caplog
):
    person = world.person()
    with caplog.at_level(logging.WARNING, logger="diagnostics.tasks"):
        response = client_for(world.social_worker).post(f"/cribado/{person.pk}/")
    assert response.status_code == 200 and response.content == b"guardado"
    assert BasicEmployabilityScreening.objects.filter(
        person=person
    ).exists()  # committed, nothing lost
    assert "la revisión nocturna la hará" in caplog.text
