"""Writes of the pilots app: a coordinator records the follow-up of a dimension, and the
evaluation pages leave a trace of each aggregate read in the disclosure log."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction

from consent.purposes import Purpose
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

from .models import DimensionFollowUp, Pilot

AGGREGATE_LEVEL = "aggregate"


@transaction.atomic
def follow_up_record(
    *, pilot: Pilot, viewer: Viewer, dimension: str, date: dt.date, state: str, obstacles: str = "",
    success_factors: str = "", next_steps: str = "",
) -> DimensionFollowUp:
    """Only a coordinator of an organisation taking part in the pilot records its follow-up."""
    if viewer.role != Role.COORDINATOR or not pilot.organisations.filter(pk=viewer.organisation_id).exists():
        raise PermissionDenied
    follow_up = DimensionFollowUp(
        pilot=pilot, dimension=dimension, date=date, state=state, obstacles=obstacles.strip(),
        success_factors=success_factors.strip(), next_steps=next_steps.strip(),
        recorded_by_id=viewer.user_id, recorded_by_org_id=viewer.organisation_id,
    )
    follow_up.full_clean()
    follow_up.save()
    return follow_up


def aggregate_read_log(
    *, viewer: Viewer, pilot: Pilot, what: str, channel: str, request_id: str = "", categories: tuple[str, ...] = (),
) -> None:
    """One line per page or export of aggregates: who read which pilot's tables, with no person.

    ``what`` names the publication and its period (``indicadores 2026-01..2026-06``);
    ``categories`` lists the special categories the aggregates were computed from (the
    ESF+ disability count reads health data), one line each, so that the DPO sees them."""
    event = DisclosureLogEntry.Event.EXPORT if channel == Channel.EXPORT else DisclosureLogEntry.Event.SPECIAL_READ
    basis = f"agregado:piloto:{pilot.pk}:{what}"[:200]
    lines = [
        LogLine(event=event, channel=channel, user_id=viewer.user_id, organisation_id=viewer.organisation_id,
                role=viewer.role, category=category, level=AGGREGATE_LEVEL, purpose=Purpose.EVALUATION,
                basis=basis, request_id=request_id)
        for category in (categories or ("",))
    ]
    if channel != Channel.EXPORT and not categories:
        return  # a page of platform indicators reads no special category: nothing to log
    disclosure_log_append(lines)
