"""The fixed grid of periods a pilot's figures are published for.

An evaluator does not choose a free range of months: the pages and downloads offer a
calendar month, a calendar quarter, a calendar year or the whole pilot, each clipped to
the months the pilot has data for (from its first month to its last month or today).
The grid is a hierarchy: months make quarters, quarters make years, years make the whole
pilot. ``pilots.indicators`` computes every period of the grid at once and protects them
together, so that a coarser figure minus the finer ones never gives back a suppressed
cell (decision 0010, "Periods").

A ``Span`` is a run of whole months. Two periods of the grid may cover the same span (a
pilot that starts in October has a year 2025 that is its fourth quarter): they are the
same figures, so cells are keyed by span, never by the period's name.

A span is *closed* once it has ended and a few grace days have passed (``closes_on``):
its figures are then frozen (``pilots.models.FrozenPeriod``) and never recomputed. The
spans still open are the running month and the quarter, year and whole pilot holding it,
and any that ended less than the grace days ago (decision 0012).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

MONTH, QUARTER, YEAR, PILOT = "month", "quarter", "year", "pilot"
LEVELS = (PILOT, YEAR, QUARTER, MONTH)  # coarsest first
PILOT_CODE = "piloto"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    months = []
    current = month_start(start)
    while current <= end:
        months.append(current)
        current = month_end(current) + dt.timedelta(days=1)
    return months


@dataclass(frozen=True, order=True)
class Span:
    """Whole months: from the first day of ``start``'s month to the last day of ``end``'s."""

    start: dt.date
    end: dt.date

    @property
    def months(self) -> list[dt.date]:
        return months_between(self.start, self.end)

    def within(self, other: Span) -> bool:
        return other.start <= self.start and self.end <= other.end

    @property
    def code(self) -> str:
        """The span in the disclosure log and in file names: ``2026-01..2026-03``."""
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"


def month_span(month: dt.date) -> Span:
    return Span(month_start(month), month_end(month))


def closes_on(span: Span, grace_days: int) -> dt.date:
    """The first day a span's figures are frozen: ``grace_days`` after the day after its end."""
    return span.end + dt.timedelta(days=grace_days + 1)


def is_closed(span: Span, *, today: dt.date, grace_days: int) -> bool:
    return today >= closes_on(span, grace_days)


@dataclass(frozen=True)
class Period:
    """One choice of the period filter: its code in the URL, its level and its span."""

    code: str
    level: str
    span: Span
    label: str

    @property
    def file_code(self) -> str:
        """The period in a file name: its code (``2026-T1``), or its months for the whole pilot."""
        if self.level == PILOT:
            return f"{self.span.start:%Y-%m}-a-{self.span.end:%Y-%m}"
        return self.code


def _month_name(month: dt.date) -> str:
    return formats.date_format(month, "F").lower()


def _month_label(month: dt.date) -> str:
    return formats.date_format(month, "F Y").capitalize()


def _months_text(span: Span) -> str:
    first, last = span.months[0], span.months[-1]
    if first == last:
        return _month_name(first)
    return f"{_month_name(first)}–{_month_name(last)}"


def _calendar(months: Sequence[dt.date], key) -> list[Span]:
    """The months grouped by ``key`` (a calendar quarter or year), as spans."""
    groups: dict[object, list[dt.date]] = {}
    for month in months:
        groups.setdefault(key(month), []).append(month)
    return [Span(group[0], month_end(group[-1])) for group in groups.values()]


def _quarter(month: dt.date) -> int:
    return (month.month - 1) // 3 + 1


@dataclass
class Grid:
    """The periods a pilot's figures are published for, and how they nest."""

    months: list[dt.date]
    periods: list[Period] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)  # distinct, in a fixed order (their ids in SQL)
    children: dict[Span, list[Span]] = field(default_factory=dict)

    @property
    def top(self) -> Span:
        return Span(self.months[0], month_end(self.months[-1]))

    def period(self, code: str) -> Period | None:
        return next((p for p in self.periods if p.code == code), None)

    def month_spans(self, span: Span) -> list[Span]:
        return [month_span(m) for m in span.months]

    def relations(self) -> list[tuple[Span, list[Span]]]:
        """The periods and the shorter periods that add up to them: each period and its parts in
        the tree (``children``), and, when those parts are not months, the period and its
        months. The definitions tell readers that a period is the sum of its months, so that
        relation is declared as such (``pilots.sdc`` rule 4 reads each relation alone)."""
        relations = []
        for parent, children in self.children.items():
            relations.append((parent, children))
            months = self.month_spans(parent)
            if len(months) >= 2 and children != months:
                relations.append((parent, months))
        return relations

    def closed_spans(self, *, today: dt.date, grace_days: int) -> list[Span]:
        """The spans whose figures are frozen by ``today`` (in the grid's order)."""
        return [span for span in self.spans if is_closed(span, today=today, grace_days=grace_days)]

    def sql_values(self) -> str:
        """The spans as an SQL ``VALUES`` list (id, first day, last day). Dates of the grid
        only, never user input, so they are written as literals."""
        return ", ".join(
            f"({i}, DATE '{span.start.isoformat()}', DATE '{span.end.isoformat()}')"
            for i, span in enumerate(self.spans)
        )


def grid_of(months: Sequence[dt.date]) -> Grid:
    """The grid over consecutive ``months`` (first days): every month, every calendar quarter
    and year they touch (clipped to them) and the whole run."""
    months = [month_start(m) for m in months]
    if not months:
        raise ValueError("a grid needs at least one month")
    levels: dict[str, list[Span]] = {
        PILOT: [Span(months[0], month_end(months[-1]))],
        YEAR: _calendar(months, lambda m: m.year),
        QUARTER: _calendar(months, lambda m: (m.year, _quarter(m))),
        MONTH: [month_span(m) for m in months],
    }
    grid = Grid(months=list(months))
    finest_level: dict[Span, int] = {}
    for index, level in enumerate(LEVELS):
        for span in levels[level]:
            if span not in finest_level:
                grid.spans.append(span)
            finest_level[span] = index
    for span in grid.spans:
        for level in LEVELS[finest_level[span] + 1:]:
            parts = [s for s in levels[level] if s.within(span)]
            if len(parts) >= 2:
                grid.children[span] = parts
                break
    grid.periods = _periods(levels)
    return grid


def _periods(levels: dict[str, list[Span]]) -> list[Period]:
    [whole] = levels[PILOT]
    first, last = whole.months[0], whole.months[-1]
    periods = [Period(PILOT_CODE, PILOT, whole, _("Todo el piloto (%(first)s – %(last)s)") % {
        "first": _month_label(first).lower(), "last": _month_label(last).lower()})]
    for span in levels[YEAR]:
        year = span.start.year
        label = _("Año %(year)s") % {"year": year}
        if span.start.month != 1 or span.end.month != 12:
            label += f" ({_months_text(span)})"
        periods.append(Period(str(year), YEAR, span, label))
    for span in levels[QUARTER]:
        n = _quarter(span.start)
        label = _("Trimestre %(n)s de %(year)s (%(months)s)") % {
            "n": n, "year": span.start.year, "months": _months_text(span)}
        periods.append(Period(f"{span.start.year}-T{n}", QUARTER, span, label))
    for span in levels[MONTH]:
        periods.append(Period(f"{span.start:%Y-%m}", MONTH, span, _month_label(span.start)))
    return periods
