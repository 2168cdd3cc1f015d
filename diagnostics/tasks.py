"""Celery tasks of the diagnostics app: thin, idempotent, retried.

``queue_person_evaluation(person_id)`` is what other apps call after a write that may
change a person's risk (``cases.services``, ``consent.services``, ``coordination``): it
queues ``evaluate_person`` when the transaction commits, and if the broker is down it
logs a warning and returns, so the web keeps answering; the nightly sweep catches up.
Both tasks only call ``services.alerts_evaluate``, which is idempotent (an alert is
opened at most once per rule and person), so a retry or a duplicate message is harmless.

A rule that fails with a database error (other than a lost connection) is rolled back alone
and the other rules go on; once they have run and committed, the task ends in error
(``services.SweepFailed``, not retried: the same SQL would fail again) so that monitoring sees
it. A lost connection (``OperationalError``) still aborts the task, which is retried.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

from cases.models import Person
from ris.celery import DATABASE_RETRY

from . import services

logger = logging.getLogger(__name__)

#: Extra ``apply_async`` options for ``evaluate_person`` (the integration test routes it to
#: a queue of its own).
EVALUATION_OPTIONS: dict = {}


@shared_task(name="diagnostics.evaluate_person", **DATABASE_RETRY)
def evaluate_person(person_id: int) -> dict:
    """Evaluate every active rule for one person."""
    if not Person.objects.filter(pk=person_id).exists():
        return {"person_id": person_id, "skipped": _("no existe")}
    result = services.alerts_evaluate(person_ids=[person_id])
    if result.failed:
        raise services.SweepFailed(result.summary()["errors"])
    return {"person_id": person_id, **result.summary()}


@shared_task(name="diagnostics.nightly_sweep", **DATABASE_RETRY)
def nightly_sweep() -> dict:
    """Evaluate every active rule over the whole population (beat: 02:30 Europe/Madrid)."""
    result = services.alerts_evaluate()
    summary = result.summary()
    logger.info("Alert sweep %s", summary)
    if result.failed:
        raise services.SweepFailed(result.summary()["errors"])
    return summary


def queue_person_evaluation(person_id: int) -> None:
    """Queue ``evaluate_person`` once the current transaction commits; never raises for the broker."""
    transaction.on_commit(lambda: _publish(person_id))


def _publish(person_id: int) -> None:
    try:
        evaluate_person.apply_async((person_id,), **EVALUATION_OPTIONS)
    except (BrokerOperationalError, RedisError, OSError, RuntimeError) as exc:
        # Redis down, refused, timed out, or the client's pool in a bad state: the web keeps answering
        logger.warning(
            "No se ha podido encolar la evaluación de alertas de la persona %s (%s: %s); la revisión nocturna la hará.",
            person_id,
            type(exc).__name__,
            exc,
        )
