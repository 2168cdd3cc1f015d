"""A real Celery worker, on the real Redis broker, evaluates a person after a change and the
alert appears.

Not eager mode: the test starts ``celery -A ris worker`` as a child process on a queue of
its own, pointed at this test's database, changes a person so that "sin contacto" fires,
queues the evaluation on commit as the application does, and polls the database for the
alert for up to 30 seconds. It always stops the worker it started.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction

from diagnostics import tasks
from diagnostics.models import Alert, AlertDelivery
from sharing.models import Enrolment
from tests.ris.test_celery_worker import start_worker, stop_worker

from .conftest import today

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT_SECONDS = 30


def test_database_url() -> str:
    """DATABASE_URL with the name of the database this test runs in (pytest-django's test database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


test_database_url.__test__ = False  # a helper, not a test


def test_a_real_worker_raises_the_alert_after_a_change(world, monkeypatch, caplog):
    assert os.environ.get("REDIS_URL"), "the test command must provide REDIS_URL"
    assert not tasks.evaluate_person.app.conf.task_always_eager
    queue = f"ris-test-diag-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(tasks, "EVALUATION_OPTIONS", {"queue": queue})
    monkeypatch.setenv("DATABASE_URL", test_database_url())

    person = world.person()
    world.consent(person)
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = start_worker(queue, log)
        try:
            # the change: the person has been attended for a year without any recorded contact
            with transaction.atomic():
                Enrolment.objects.filter(person=person).update(
                    start_date=today() - dt.timedelta(days=365)
                )
                tasks.queue_person_evaluation(person.pk)
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline:
                if Alert.objects.filter(person=person, rule__code="sin_contacto").exists():
                    break
                time.sleep(0.5)
            else:
                log.seek(0)
                pytest.fail(
                    f"no alert after {WAIT_SECONDS} s; queueing said: {caplog.text!r}; "
                    f"the worker's log:\n{log.read()[-4000:]}"
                )
            deadline = time.monotonic() + 5
            while (
                not AlertDelivery.objects.filter(alert__person=person).exists()
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
        finally:
            stop_worker(worker)
        log.seek(0)
        assert "diagnostics.evaluate_person" in log.read()
    delivery = AlertDelivery.objects.get(alert__person=person)
    assert delivery.recipient_id == world.social_worker.pk
