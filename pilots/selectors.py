"""Reads for the evaluation pages: which pilots a viewer may open, the scope and grid of
periods of a pilot, and the protected publication the pages, exports and report are built from.

Nothing here returns a person: the only rows are pilots, organisations, territories,
dimension follow-ups and protected aggregate cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ris.accounts.models import Organisation
from ris.accounts.viewer import Viewer

from . import esf
from .indicators import (
    MUNICIPALITY_LEVEL,
    PROVINCE_LEVEL,
    OrganisationInfo,
    Publication,
    Scope,
    month_end,
    month_start,
    months_between,
    publish,
)
from .models import Dimension, DimensionFollowUp, Pilot
from .periods import Span

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
    level = MUNICIPALITY_LEVEL if getattr(pilot, "n_municipalities", 0) else PROVINCE_LEVEL
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


def publication_for(*, scope: Scope, period: Span | None = None) -> Publication:
    """The protected tables of ``period`` (a span of the scope's grid; the whole scope by default)."""
    return publish(scope, period=period)


def esf_tables_for(*, scope: Scope, period: Span | None = None) -> list[esf.EsfTable]:
    return [esf.participants_table(scope, period=period), esf.leavers_table(scope, period=period)]


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
