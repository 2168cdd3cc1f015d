"""What the dashboard, the PDF report and the charts show of a protected publication.

Everything here reads ``Cell.shown`` / ``Cell.suppressed``: a suppressed cell is "<5"
in a table and a gap (``null``) in a chart, never its value. A frozen period may lack an
organisation or territory that joined the pilot after it closed: its cell is then "—".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .exports import extra_label, month_label
from .indicators import MeasureTable, Publication
from .sdc import Cell

TREND_MEASURES = (
    "persons_new", "referrals_sent", "referrals_received", "plans_opened", "plan_actions_completed",
    "conference_persons", "alerts_raised", "disclosures",
)
COMPARISON_MEASURES = (
    "persons_attended", "persons_multi_service", "persons_with_basis", "referrals_sent", "referrals_received",
    "referrals_accepted", "plans_opened", "alerts_raised",
)


@dataclass
class Row:
    label: str
    cells: list[Cell]
    selected: bool = False


@dataclass
class Grid:
    """A table: a header of measures and one row per month, territory or organisation."""

    title: str
    caption: str
    first_column: str
    measures: list[MeasureTable]
    rows: list[Row] = field(default_factory=list)

    def chart(self) -> dict:
        return {
            "labels": [row.label for row in self.rows],
            "datasets": [
                {"label": str(table.measure.label),
                 "data": [_chart_value(row.cells[i]) for row in self.rows]}
                for i, table in enumerate(self.measures)
            ],
        }


def _chart_value(cell: Cell):
    if cell is None or cell.suppressed or cell.value is None:
        return None
    return cell.value


@dataclass
class Dashboard:
    publication: Publication
    selection_label: str
    headline: list[tuple[MeasureTable, Cell | None]]
    trend: Grid | None
    by_territory: Grid
    by_organisation: Grid
    extras: list[Grid]
    unavailable: list[MeasureTable]

    def charts(self) -> dict:
        charts = {"territory": self.by_territory.chart(), "organisation": self.by_organisation.chart()}
        if self.trend is not None:
            charts["trend"] = self.trend.chart()
        return charts


def build_dashboard(publication: Publication, *, organisation_id: int | None, territory: str | None,
                    selection_label: str) -> Dashboard:
    scope = publication.scope
    tables = publication.tables
    headline = [
        (table, table.selection(organisation_id=organisation_id, territory=territory)[0])
        for table in tables.values() if table.available
    ]
    trend_tables = [tables[c] for c in TREND_MEASURES if c in tables and tables[c].available and tables[c].monthly]
    trend = None
    if trend_tables:
        trend = Grid(_("Evolución mensual"), _("Evolución mensual de la selección"), _("Mes"), trend_tables)
        series = [t.selection(organisation_id=organisation_id, territory=territory)[1] for t in trend_tables]
        for month in scope.months:
            trend.rows.append(Row(month_label(month), [s.get(month) for s in series]))
    compared = [tables[c] for c in COMPARISON_MEASURES if c in tables and tables[c].available]
    by_territory = Grid(_("Comparación por territorio"), _("Indicadores por territorio del periodo"),
                        _("Territorio"), compared)
    for code in scope.territories:
        by_territory.rows.append(Row(scope.territory_labels.get(code, code), [t.by_territory.get(code) for t in compared],
                                     selected=territory == code))
    by_organisation = Grid(_("Comparación por organización"), _("Indicadores por organización del periodo"),
                           _("Organización"), compared)
    for org in scope.organisations:
        if territory is not None and org.territory != territory:
            continue
        by_organisation.rows.append(Row(org.name, [t.by_org.get(org.id) for t in compared],
                                        selected=organisation_id == org.id))
    extras = []
    for source in publication.sources:
        source_tables = [tables[m.code] for m in source.measures if tables[m.code].available]
        if not source_tables:
            continue
        for dim, _column, label in source.extra_dims:
            keys = sorted({key for t in source_tables for key in t.extra.get(dim, {})},
                          key=lambda key, dim=dim: extra_label(dim, key))
            if not keys:
                continue
            grid = Grid(f"{source.title} · {label}", _("%(what)s por %(dim)s (todo el piloto)") % {
                "what": source.title, "dim": str(label).lower()}, str(label), source_tables)
            for key in keys:
                grid.rows.append(Row(extra_label(dim, key), [t.extra[dim].get(key) for t in source_tables]))
            extras.append(grid)
    return Dashboard(
        publication=publication, selection_label=selection_label, headline=headline, trend=trend,
        by_territory=by_territory, by_organisation=by_organisation, extras=extras,
        unavailable=publication.unavailable_tables(),
    )
