"""Celery tasks of the pilots app: thin, idempotent, retried.

``freeze_closed_periods`` runs every night (``pilots.schedule``): for each pilot it calls
``services.periods_freeze``, which stores the figures of the periods that closed since the
last run (a period closes when it has ended and the pilot's grace days have passed). It is
idempotent: a period already frozen is never frozen again, and two runs of one pilot wait
for each other (the pilot's row is locked). A page that finds a closed period not frozen
yet (the task has not run) freezes it itself, with the same service.
"""

from __future__ import annotations

import logging

from celery import shared_task

from ris.celery import DATABASE_RETRY

from . import services
from .models import FrozenPeriod, Pilot

logger = logging.getLogger(__name__)


@shared_task(name="pilots.freeze_closed_periods", **DATABASE_RETRY)
def freeze_closed_periods() -> dict:
    """Freeze the closed periods of every pilot (beat: 03:15 Europe/Madrid)."""
    pilot_ids = list(Pilot.objects.order_by("pk").values_list("pk", flat=True))
    frozen = 0
    for pilot_id in pilot_ids:
        frozen += len(services.periods_freeze(pilot_id=pilot_id, origin=FrozenPeriod.Origin.SCHEDULED))
    summary = {"pilots": len(pilot_ids), "periods_frozen": frozen}
    logger.info("Pilot periods frozen %s", summary)
    return summary
