"""Reads for the evaluation pages: which pilots a viewer may open, the scope and grid of
periods of a pilot, the frozen figures of its closed periods, and the protected publication
the pages, exports and report are built from.

Nothing here returns a person: the only rows are pilots, organisations, territories,
dimension follow-ups and protected aggregate cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ris.accounts.models import Organisation
from ris.accounts.viewer import Viewer

from . import esf
from .indicators import (
    MUNICIPALITY_LEVEL,
    PROVINCE_LEVEL,
    Frozen,
    OrganisationInfo,
    Publication,
    Scope,
    month_end,
    month_start,
    months_between,
    publish,
    release_figures,
)
from .models import Dimension, DimensionFollowUp, FrozenPeriod, Pilot
from .periods import Span, closes_on

MAX_MONTHS = 60


def pilots_for(*, viewer: Viewer) -> QuerySet[Pilot]:
    return (
        Pilot.objects.visible_to(viewer).select_related("community")
        .annotate(n_organisations=Count("organisations", distinct=True))
        .order_by("-start_date", "name")
    )


def pilot_for(*, viewer: Viewer, pilot_id: int) -> Pilot:
    """The pilot if the viewer may open it; a 404 otherwise (as if it did not exist)."""
    pilot = (
        Pilot.objects.visible_to(viewer).select_related("community")
        .annotate(n_municipalities=Count("municipalities", distinct=True))
        .filter(pk=pilot_id).first()
    )
    if pilot is None:
        raise Http404
    return pilot


def viewer_takes_part(*, viewer: Viewer, pilot: Pilot) -> bool:
    return pilot.organisations.filter(pk=viewer.organisation_id).exists()


def available_months(*, pilot: Pilot, today: dt.date | None = None) -> list[dt.date]:
    """The months a period may start or end in: from the pilot's start to its end or today."""
    today = today or timezone.localdate()
    last = min(pilot.end_date or today, today)
    if last < pilot.start_date:
        last = pilot.start_date
    months = months_between(month_start(pilot.start_date), last)
    return months[-MAX_MONTHS:]


def default_period(*, pilot: Pilot, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    months = available_months(pilot=pilot, today=today)
    return months[0], month_end(months[-1])


def scope_for(*, pilot: Pilot, start: dt.date, end: dt.date, today: dt.date | None = None) -> Scope:
    """The pilot's organisations and territories (one query) for a period of whole months."""
    n_municipalities = getattr(pilot, "n_municipalities", None)
    if n_municipalities is None:  # a pilot not read through ``pilot_for`` (the beat task)
        n_municipalities = pilot.municipalities.count()
    level = MUNICIPALITY_LEVEL if n_municipalities else PROVINCE_LEVEL
    rows = (
        Organisation.objects.filter(pilots=pilot)
        .values("id", "name", "kind", "province_id", "province__name", "municipality_id", "municipality__name",
                "municipality__province_id", "municipality__province__name")
        .order_by("name", "id")
    )
    organisations, labels = [], {"": _("Ámbito autonómico")}
    for row in rows:
        if level == MUNICIPALITY_LEVEL:
            code, name = row["municipality_id"] or "", row["municipality__name"]
        else:
            code = row["province_id"] or row["municipality__province_id"] or ""
            name = row["province__name"] or row["municipality__province__name"]
        if code:
            labels[code] = name
        organisations.append(OrganisationInfo(id=row["id"], name=row["name"], kind=row["kind"], territory=code))
    return Scope(
        pilot_id=pilot.pk, start=month_start(start), end=month_end(end), organisations=tuple(organisations),
        territory_level=level, territory_labels=labels, today=today, pilot_start=pilot.start_date,
    )


def pilot_scope(*, pilot: Pilot, today: dt.date | None = None) -> Scope:
    """The pilot over every month it has data for: the grid its figures are published on."""
    start, end = default_period(pilot=pilot, today=today)
    return scope_for(pilot=pilot, start=start, end=end, today=today)


@dataclass
class Selection:
    """The filter of a page: an organisation, or a territory, or neither."""

    organisation_id: int | None = None
    territory: str | None = None

    def label(self, scope: Scope) -> str:
        if self.organisation_id is not None:
            return next(o.name for o in scope.organisations if o.id == self.organisation_id)
        if self.territory is not None:
            return scope.territory_labels.get(self.territory, self.territory)
        return _("Todo el piloto")

    @property
    def code(self) -> str:
        """The selection in the disclosure log: ``organizacion:12``, ``territorio:24`` or empty."""
        if self.organisation_id is not None:
            return f"organizacion:{self.organisation_id}"
        if self.territory is not None:
            return f"territorio:{self.territory or '-'}"
        return ""


@dataclass
class ClosedPeriods:
    """What is frozen of a pilot's grid: the latest version of each frozen period, and the
    closed periods not frozen yet (``pending``: ``pilots.services.periods_freeze`` freezes them)."""

    rows: dict[Span, FrozenPeriod]
    pending: list[Span]
    grace_days: int
    today: dt.date

    @property
    def figures(self) -> Frozen:
        return {span: row.figures for span, row in self.rows.items()}

    def state(self, span: Span) -> DataState:
        row = self.rows.get(span)
        if row is not None:
            return DataState(frozen=True, version=row.version, text=_frozen_text(row))
        if span.end < self.today:
            return DataState(frozen=False, version=0, text=_(
                "Datos provisionales: el periodo terminó el %(end)s y sus cifras se cierran el %(closes)s, para "
                "recoger los registros tardíos. Hasta entonces pueden cambiar.") % {
                    "end": formats.date_format(span.end, "d/m/Y"),
                    "closes": formats.date_format(closes_on(span, self.grace_days), "d/m/Y")})
        return DataState(frozen=False, version=0, text=_(
            "Datos provisionales: el periodo no ha terminado. Sus cifras pueden cambiar hasta que se cierre, "
            "%(days)s días después de terminar; las de los meses ya cerrados no cambian.") % {
                "days": self.grace_days})


@dataclass(frozen=True)
class DataState:
    """Whether a period's figures are frozen (and which version) or provisional, and the text saying so."""

    frozen: bool
    version: int
    text: str


def _frozen_text(row: FrozenPeriod) -> str:
    day = formats.date_format(timezone.localtime(row.frozen_at), "d/m/Y")
    if row.version == 1:
        return _("Datos cerrados el %(day)s: estas cifras ya no cambian, aunque se registren después datos "
                 "con fecha del periodo.") % {"day": day}
    return _("Datos cerrados y corregidos el %(day)s (versión %(version)s). Motivo de la corrección: "
             "%(reason)s") % {"day": day, "version": row.version, "reason": row.reason}


def closed_periods_of(*, pilot: Pilot, scope: Scope) -> ClosedPeriods:
    """The frozen periods of the pilot's grid (one query) and the closed ones not frozen yet.

    A frozen period stays frozen even if the pilot's grace days change later."""
    grid = scope.grid()
    today = scope.today or timezone.localdate()
    spans = set(grid.spans)
    rows = {}
    for row in FrozenPeriod.objects.filter(pilot=pilot).latest_versions():
        span = Span(row.start, row.end)
        if span in spans:
            rows[span] = row
    closed = grid.closed_spans(today=today, grace_days=pilot.freeze_after_days)
    return ClosedPeriods(rows=rows, pending=[span for span in closed if span not in rows],
                         grace_days=pilot.freeze_after_days, today=today)


def figures_to_freeze(*, scope: Scope, spans: list[Span], frozen: Frozen) -> Frozen:
    """The protected figures of ``spans`` (closed periods not frozen yet), indicators and ESF+
    tables, computed with the frozen periods locked: the statements of one release, once."""
    figures = release_figures(scope, spans, frozen)
    for span, tables in esf.release_figures(scope, spans, frozen).items():
        figures[span]["esf"] = tables
    return figures


def publication_for(*, scope: Scope, period: Span | None = None, frozen: Frozen | None = None) -> Publication:
    """The protected tables of ``period`` (a span of the scope's grid; the whole scope by
    default): a closed period's frozen figures, or the live release around them."""
    return publish(scope, period=period, frozen=frozen)


def esf_tables_for(*, scope: Scope, period: Span | None = None, frozen: Frozen | None = None) -> list[esf.EsfTable]:
    return [esf.participants_table(scope, period=period, frozen=frozen),
            esf.leavers_table(scope, period=period, frozen=frozen)]


def latest_follow_ups(*, pilot: Pilot) -> list[tuple[str, str, DimensionFollowUp | None]]:
    """(dimension, label, its latest follow-up or None) for the six dimensions, in one query."""
    latest = {
        f.dimension: f
        for f in DimensionFollowUp.objects.filter(pilot=pilot)
        .select_related("recorded_by_org")
        .order_by("dimension", "-date", "-id").distinct("dimension")
    }
    return [(d.value, d.label, latest.get(d.value)) for d in Dimension]


def follow_ups_of(*, pilot: Pilot) -> QuerySet[DimensionFollowUp]:
    return (
        DimensionFollowUp.objects.filter(pilot=pilot).select_related("recorded_by_org", "recorded_by")
        .order_by("dimension", "-date", "-id")
    )
