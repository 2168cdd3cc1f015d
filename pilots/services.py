"""Writes of the pilots app: a coordinator records the follow-up of a dimension, the closed
periods of a pilot are frozen (and corrected by an administrator), and the evaluation pages
leave a trace of each aggregate read in the disclosure log."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consent.purposes import Purpose
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

from .models import DimensionFollowUp, FrozenPeriod, Pilot
from .periods import Span
from .selectors import closed_periods_of, figures_to_freeze, pilot_scope

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


def _locked_pilot(pilot_id: int) -> Pilot:
    """The pilot, its row locked until the transaction ends: one freeze of a pilot at a time, so
    that two requests (or a request and the beat task) never freeze the same periods twice."""
    Pilot.objects.select_for_update().filter(pk=pilot_id).values_list("pk").get()
    return Pilot.objects.get(pk=pilot_id)


@transaction.atomic
def periods_freeze(*, pilot_id: int, origin: str = FrozenPeriod.Origin.SCHEDULED,
                   today: dt.date | None = None) -> list[FrozenPeriod]:
    """Freeze every closed period of the pilot that is not frozen yet; idempotent.

    The figures are computed once, by the statements of one release (every period of the
    grid, the periods frozen earlier locked), and stored as published. Called by the beat
    task every night and, if a page finds a closed period not frozen yet, by that page."""
    pilot = _locked_pilot(pilot_id)
    scope = pilot_scope(pilot=pilot, today=today)
    closed = closed_periods_of(pilot=pilot, scope=scope)
    if not closed.pending:
        return []
    figures = figures_to_freeze(scope=scope, spans=closed.pending, frozen=closed.figures)
    return FrozenPeriod.objects.bulk_create([
        FrozenPeriod(pilot=pilot, start=span.start, end=span.end, version=1, origin=origin, figures=figures[span])
        for span in closed.pending
    ])


@transaction.atomic
def period_correct(*, pilot_id: int, span: Span, reason: str, recorded_by_id: int,
                   today: dt.date | None = None) -> list[FrozenPeriod]:
    """A new version of a frozen period, computed from the data as they are now, with the
    administrator's reason. Its figures are part of the figures of every frozen period that
    holds it or that it holds (a month: its quarter, its year; a quarter: its months...), so
    those get a new version too, protected together around the other frozen periods, which
    do not change. Returns the new versions, the corrected period's first."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Indique el motivo de la corrección."), code="reason")
    pilot = _locked_pilot(pilot_id)
    scope = pilot_scope(pilot=pilot, today=today)
    closed = closed_periods_of(pilot=pilot, scope=scope)
    if span not in closed.rows and span not in closed.pending:
        raise ValidationError(_("Ese periodo no está cerrado: sus cifras aún son provisionales y se "
                                "calculan en cada consulta."), code="open")
    if closed.pending:  # freeze first what has closed, so that the correction is the only change
        periods_freeze(pilot_id=pilot.pk, origin=FrozenPeriod.Origin.SCHEDULED, today=today)
        closed = closed_periods_of(pilot=pilot, scope=scope)
    related = [s for s in closed.rows if s.within(span) or span.within(s)]
    related.sort(key=lambda s: s != span)
    kept = {s: figures for s, figures in closed.figures.items() if s not in related}
    figures = figures_to_freeze(scope=scope, spans=related, frozen=kept)
    return FrozenPeriod.objects.bulk_create([
        FrozenPeriod(pilot=pilot, start=s.start, end=s.end, version=closed.rows[s].version + 1,
                     origin=FrozenPeriod.Origin.CORRECTION, reason=reason, recorded_by_id=recorded_by_id,
                     figures=figures[s])
        for s in related
    ])
