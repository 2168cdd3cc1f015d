"""The fixed grid of periods: calendar months, quarters and years, clipped to the months the
pilot has data for, and the whole pilot; and the filter that only offers those."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict

from pilots.forms import FilterForm
from pilots.periods import PILOT_CODE, Span, grid_of, month_end, months_between


def span(first: str, last: str) -> Span:
    start = dt.date.fromisoformat(first + "-01")
    return Span(start, month_end(dt.date.fromisoformat(last + "-01")))


@pytest.fixture
def grid():
    """October 2025 to November 2026: the conftest pilot on its "today"."""
    return grid_of(months_between(dt.date(2025, 10, 1), dt.date(2026, 11, 23)))


def test_the_grid_has_every_month_quarter_and_year_clipped_and_the_whole_pilot(grid):
    codes = [p.code for p in grid.periods]
    assert codes[:3] == [PILOT_CODE, "2025", "2026"]
    assert codes[3:8] == ["2025-T4", "2026-T1", "2026-T2", "2026-T3", "2026-T4"]
    assert codes[8:] == [f"2025-{m}" for m in ("10", "11", "12")] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert grid.period("2026-T4").span == span("2026-10", "2026-11")  # the running quarter, up to its last month
    assert grid.period("2026").span == span("2026-01", "2026-11")
    assert grid.period(PILOT_CODE).span == grid.top == span("2025-10", "2026-11")
    assert grid.period("2026-01..2026-04") is None


def test_two_periods_over_the_same_months_are_the_same_cells(grid):
    """The pilot starts in October: its year 2025 is its fourth quarter of 2025."""
    assert grid.period("2025").span == grid.period("2025-T4").span
    assert len(grid.spans) == len(set(grid.spans)) == 1 + 2 + 5 - 1 + 14  # 2025 and 2025-T4 are one span


def test_the_periods_nest_months_in_quarters_in_years_in_the_pilot(grid):
    assert grid.children[grid.top] == [span("2025-10", "2025-12"), span("2026-01", "2026-11")]
    assert grid.children[span("2025-10", "2025-12")] == [span(m, m) for m in ("2025-10", "2025-11", "2025-12")]
    assert [s.code for s in grid.children[span("2026-01", "2026-11")]] == [
        "2026-01..2026-03", "2026-04..2026-06", "2026-07..2026-09", "2026-10..2026-11"]
    assert grid.children[span("2026-10", "2026-11")] == [span("2026-10", "2026-10"), span("2026-11", "2026-11")]
    assert span("2026-05", "2026-05") not in grid.children
    for parent, children in grid.children.items():  # children tile their parent
        assert [m for child in children for m in child.months] == parent.months


def test_a_pilot_within_one_quarter_and_a_pilot_of_one_month():
    quarter = grid_of(months_between(dt.date(2026, 4, 1), dt.date(2026, 6, 1)))
    assert quarter.children == {quarter.top: [span(m, m) for m in ("2026-04", "2026-05", "2026-06")]}
    single = grid_of([dt.date(2026, 4, 1)])
    assert single.spans == [span("2026-04", "2026-04")] and single.children == {}
    assert [p.code for p in single.periods] == [PILOT_CODE, "2026", "2026-T2", "2026-04"]


def test_the_grid_is_written_into_sql_as_literal_dates_with_their_ids(grid):
    values = grid.sql_values()
    assert values.startswith("(0, DATE '2025-10-01', DATE '2026-11-30'), ")
    assert values.count("DATE") == 2 * len(grid.spans)


def test_period_labels_say_which_months_they_hold(grid):
    labels = {p.code: p.label for p in grid.periods}
    assert labels[PILOT_CODE] == "Todo el piloto (octubre 2025 – noviembre 2026)"
    assert labels["2025"] == "Año 2025 (octubre–diciembre)"
    assert labels["2026-T1"] == "Trimestre 1 de 2026 (enero–marzo)"
    assert labels["2026-T4"] == "Trimestre 4 de 2026 (octubre–noviembre)"
    assert labels["2026-03"] == "Marzo 2026"


# --- The filter ---------------------------------------------------------------------------------


def form(grid, scope, query: str) -> FilterForm:
    return FilterForm(QueryDict(query), grid=grid, scope=scope)


def test_the_filter_takes_a_period_of_the_grid(grid, scope):
    chosen = form(grid, scope, "periodo=2026-T2&territorio=24")
    assert chosen.is_valid()
    assert chosen.period() == span("2026-04", "2026-06")
    assert chosen.selection() == (None, "24")
    assert chosen.query_string() == "periodo=2026-T2&territorio=24"


@pytest.mark.parametrize("query", ["desde=2026-01&hasta=2026-04", "periodo=2026-T1&desde=2026-01&hasta=2026-02",
                                   "periodo=2026-01..2026-04", "periodo=2019-01", "periodo=2026-T9"])
def test_anything_but_a_period_of_the_grid_is_refused_and_the_whole_pilot_shown(grid, scope, query):
    refused = form(grid, scope, query)
    assert not refused.is_valid()
    assert refused.period() == grid.top
    assert refused.query_string() == ""


def test_without_a_period_the_filter_is_the_whole_pilot(grid, scope):
    assert form(grid, scope, "").period() == grid.top
    assert form(grid, scope, "territorio=47").period() == grid.top
    assert FilterForm(None, grid=grid, scope=scope).period() == grid.top
