"""Statistical disclosure control: what an evaluator may never be able to read or recompute.

Primary rule: a cell resting on 1 to 4 persons is shown as "<5". Complementary rule: in
a group of cells that add up to a visible total, one suppressed cell alone could be
recomputed as "total minus the visible cells", so a second cell (the next smallest) or
the total is suppressed too; and the hidden cells of such a group must add up to at least
5, or a reader would know each of them is smaller. Frozen cells (of closed periods) are
never suppressed nor shown anew: the other cells protect them.
"""

from __future__ import annotations

from fractions import Fraction

from pilots import sdc
from pilots.sdc import SUPPRESSED, Cell, Group, protect

from .attacker import _solve


def counts(*values: int) -> list[Cell]:
    return [Cell(v, v) for v in values]


def recomputable(members: list[Cell], total: Cell) -> list[Cell]:
    """The suppressed members a reader can get back by subtracting the visible ones from the total."""
    hidden = [c for c in members if c.suppressed]
    if total.suppressed or len(hidden) != 1:
        return []
    return hidden


def test_a_cell_of_fewer_than_five_persons_is_suppressed_and_five_is_shown():
    cells = counts(1, 4, 5, 12)
    protect(cells, [])
    assert [c.shown for c in cells] == [SUPPRESSED, SUPPRESSED, 5, 12]


def test_a_zero_rests_on_nobody_and_is_shown():
    [zero] = counts(0)
    protect([zero], [])
    assert zero.shown == 0


def test_event_counts_are_suppressed_on_the_persons_behind_them():
    """Twelve referrals of three persons say something about each of the three."""
    cell = Cell(12, 3)
    protect([cell], [])
    assert cell.shown == SUPPRESSED


def test_a_median_of_fewer_than_five_persons_is_suppressed_and_never_complements():
    small, large = Cell(3.5, 2, additive=False), Cell(7.0, 9, additive=False)
    protect([small, large], [])
    assert (small.shown, large.shown) == (SUPPRESSED, 7.0)


def test_counts_of_meetings_are_not_about_persons_and_are_never_suppressed():
    meetings = Cell(2, 0, personal=False)
    protect([meetings], [])
    assert meetings.shown == 2


def test_the_complementary_cell_the_total_minus_the_visible_cells():
    """By organisation: 3 | 9 | 20, total 32. Without a second suppression 32 - 9 - 20 = 3."""
    members, total = counts(3, 9, 20), Cell(32, 32)
    group = Group(members, total)

    protect([*members, total], [])  # primary suppression only: the 3 can be recomputed
    assert recomputable(members, total) == [members[0]]
    assert total.value - sum(c.value for c in members if not c.suppressed) == 3

    members, total = counts(3, 9, 20), Cell(32, 32)
    group = Group(members, total)
    protect([*members, total], [group])
    assert [c.shown for c in members] == [SUPPRESSED, SUPPRESSED, 20]
    assert total.shown == 32
    assert members[1].complementary and not members[0].complementary
    assert recomputable(members, total) == []


def test_the_next_smallest_cell_is_chosen_and_zeros_do_not_protect():
    members, total = counts(2, 0, 40, 7, 15), Cell(64, 64)
    protect([*members, total], [Group(members, total)])
    assert [c.shown for c in members] == [SUPPRESSED, 0, 40, SUPPRESSED, 15]


def test_without_another_non_zero_cell_the_total_is_suppressed():
    members, total = counts(4, 0, 0), Cell(6, 6)  # distinct persons need not add up
    protect([*members, total], [Group(members, total)])
    assert total.shown == SUPPRESSED


def test_two_suppressed_cells_need_nothing_more():
    members, total = counts(2, 3, 30), Cell(35, 35)
    protect([*members, total], [Group(members, total)])
    assert [c.shown for c in members] == [SUPPRESSED, SUPPRESSED, 30]
    assert total.shown == 35


def test_a_suppressed_total_protects_its_group():
    members, total = counts(3, 0), Cell(3, 3)
    protect([*members, total], [Group(members, total)])
    assert total.shown == SUPPRESSED and members[1].shown == 0


def test_rows_and_columns_are_revisited_until_no_single_suppression_is_left():
    """A 2 x 2 table with margins: suppressing a second cell in a row can leave a column
    with one suppressed cell, which must then be protected too."""
    a, b, c, d = counts(2, 10, 8, 12)
    row1, row2 = Cell(12, 12), Cell(20, 20)
    col1, col2 = Cell(10, 10), Cell(22, 22)
    total = Cell(32, 32)
    groups = [
        Group([a, b], row1), Group([c, d], row2),
        Group([a, c], col1), Group([b, d], col2),
        Group([row1, row2], total), Group([col1, col2], total),
    ]
    protect([a, b, c, d, row1, row2, col1, col2, total], groups)
    for group in groups:
        assert recomputable(group.members, group.total) == [], group
    assert a.suppressed
    assert sum(cell.suppressed for cell in (a, b, c, d)) == 4


def test_what_is_shown_is_never_the_value_of_a_suppressed_cell():
    members, total = counts(1, 6, 6), Cell(13, 13)
    protect([*members, total], [Group(members, total)])
    texts = [c.as_text() for c in members]
    assert texts.count(SUPPRESSED) == 2
    assert "1" not in texts


def test_a_hidden_total_whose_members_are_all_shown_is_their_sum_so_a_member_is_hidden_too():
    """The territory of Valladolid was hidden to protect León (territories → pilot); its
    organisations, all shown, would add up to it, and León would be the pilot minus that sum."""
    s, e, n, leon = counts(6, 9, 0, 3)
    valladolid, leon_territory, pilot = Cell(15, 15), Cell(3, 3), Cell(18, 18)
    territories = Group([valladolid, leon_territory], pilot)
    in_valladolid, in_leon = Group([s, e, n], valladolid), Group([leon], leon_territory)
    protect([s, e, n, leon, valladolid, leon_territory, pilot], [territories, in_valladolid, in_leon])
    assert valladolid.suppressed and leon_territory.suppressed
    assert s.suppressed and not e.suppressed  # the smallest non-zero organisation of Valladolid
    for group in (territories, in_valladolid, in_leon):
        assert sum(c.suppressed for c in (*group.members, group.total)) != 1, group.name


def test_no_group_is_left_hiding_exactly_one_cell():
    """Months of two quarters and the half-year, by two organisations: rows, columns and periods."""
    months = {org: counts(*values) for org, values in {"S": (6, 0, 2, 7, 9, 5), "L": (0, 3, 0, 0, 8, 6)}.items()}
    by_month = [Cell(a.value + b.value, a.value + b.value) for a, b in zip(months["S"], months["L"], strict=True)]

    def total(cells):
        return Cell(sum(c.value for c in cells), sum(c.value for c in cells))

    quarters = {org: [total(cells[:3]), total(cells[3:])] for org, cells in months.items()}
    quarter_totals = [total(by_month[:3]), total(by_month[3:])]
    halves = {org: total(cells) for org, cells in months.items()}
    half = total(by_month)
    groups = [Group([months["S"][i], months["L"][i]], by_month[i]) for i in range(6)]
    groups += [Group([quarters["S"][q], quarters["L"][q]], quarter_totals[q]) for q in range(2)]
    groups.append(Group([halves["S"], halves["L"]], half))
    for org in ("S", "L"):
        groups += [Group(months[org][:3], quarters[org][0]), Group(months[org][3:], quarters[org][1]),
                   Group(quarters[org], halves[org])]
    groups += [Group(by_month[:3], quarter_totals[0]), Group(by_month[3:], quarter_totals[1]),
               Group(quarter_totals, half)]
    cells = [*months["S"], *months["L"], *by_month, *quarters["S"], *quarters["L"], *quarter_totals,
             halves["S"], halves["L"], half]
    protect(cells, groups)
    assert months["S"][2].suppressed and months["L"][1].suppressed
    for group in groups:
        assert sum(c.suppressed for c in (*group.members, group.total)) != 1, group


def table_with_margins(values: list[list[int]]) -> tuple[list[Cell], list[Group], list[list[Cell]]]:
    cells = [[Cell(v, v) for v in row] for row in values]
    rows = [Cell(sum(row), sum(row)) for row in values]
    columns = [Cell(sum(col), sum(col)) for col in zip(*values, strict=True)]
    total = Cell(sum(map(sum, values)), sum(map(sum, values)))
    groups = [Group(cells[i], rows[i]) for i in range(len(rows))]
    groups += [Group([row[j] for row in cells], columns[j]) for j in range(len(columns))]
    groups += [Group(rows, total), Group(columns, total)]
    return [c for row in cells for c in row] + rows + columns + [total], groups, cells


def pinned(groups: list[Group]) -> list[tuple[int, Fraction]]:
    """What a reader solving every relation gets back: (value, recomputed value) of hidden cells."""
    names = {}
    equations = []
    for group in groups:
        row, constant = {}, Fraction(0)
        for cell, sign in [(m, 1) for m in group.members] + [(group.total, -1)]:
            if cell.suppressed:
                names[id(cell)] = cell
                row[id(cell)] = row.get(id(cell), 0) + sign
            else:
                constant += sign * cell.value
        if row:
            equations.append((row, -constant))
    return [(names[key].value, value) for key, value in _solve(equations).items()]


def test_relations_chained_through_a_table_are_solved_and_broken(monkeypatch):
    """Every row and column hides 0 or at least 2 cells, yet the relations together pin one
    "1" down; the audit hides one more cell."""
    values = [[12, 12, 1], [0, 9, 6], [0, 1, 1]]
    cells, groups, grid = table_with_margins(values)
    monkeypatch.setattr(sdc, "exposed_cells", lambda groups: [])  # completion alone...
    monkeypatch.setattr(sdc, "PROTECTION_LEVEL", 0)  # ...of exactly one hidden cell
    protect(cells, groups)
    assert all(sum(c.suppressed for c in (*g.members, g.total)) != 1 for g in groups)
    assert (1, 1) in pinned(groups)
    monkeypatch.undo()

    cells, groups, grid = table_with_margins(values)
    protect(cells, groups)
    assert pinned(groups) == []
    assert grid[0][2].suppressed and grid[2][2].suppressed  # the primary cells stay hidden


# --- Protection interval of one relation -----------------------------------------------------------


def interval(group: Group, cell: Cell) -> tuple[Fraction, Fraction]:
    """What the group alone tells a reader about a hidden member, with counts not negative."""
    remainder = group.total.value - sum(c.value for c in group.members if not c.suppressed)
    others = [c for c in group.members if c.suppressed and c is not cell]
    return Fraction(max(0, remainder - remainder * len(others))), Fraction(remainder)


def test_hidden_cells_adding_up_to_less_than_five_under_a_shown_total_get_company():
    """Two primary cells of 1 and 2 under a total of 40: hidden together they add up to 3, so a
    reader would know each is 0 to 3. One more cell is hidden: the remainder becomes 12."""
    members, total = counts(1, 2, 9, 28), Cell(40, 40)
    group = Group(members, total)
    protect([*members, total], [group])
    assert [c.shown for c in members] == [SUPPRESSED, SUPPRESSED, SUPPRESSED, 28]
    assert members[2].complementary and total.shown == 40
    for cell in members[:3]:
        low, high = interval(group, cell)
        assert high - low >= sdc.PROTECTION_LEVEL


def test_hidden_cells_adding_up_to_five_or_more_need_nothing_more():
    members, total = counts(2, 3, 30), Cell(35, 35)
    group = Group(members, total)
    protect([*members, total], [group])
    assert [c.shown for c in members] == [SUPPRESSED, SUPPRESSED, 30]
    assert interval(group, members[0]) == (0, 5)


def test_without_a_member_to_hide_the_total_is_hidden_to_widen_the_interval():
    """A quarter still open: October is frozen and shown (5), November and December hold 1 and 2
    persons. The quarter (8) minus October says they add up to 3; no open month is left to
    hide, so the quarter is hidden."""
    october, november, december, quarter = sdc.frozen_cell(5), Cell(1, 1), Cell(2, 2), Cell(8, 8)
    protect([october, november, december, quarter], [Group([october, november, december], quarter)])
    assert [c.shown for c in (october, november, december)] == [5, SUPPRESSED, SUPPRESSED]
    assert quarter.suppressed and quarter.complementary


def test_every_group_of_the_random_tables_leaves_its_hidden_cells_five_or_more_apart():
    import random

    rng = random.Random(11)
    for _ in range(30):
        values = [[rng.choice([0, 1, 2, 3, 4, 6, 9, 15]) for _ in range(4)] for _ in range(4)]
        cells, groups, _grid = table_with_margins(values)
        protect(cells, groups)
        assert pinned(groups) == [], values
        for group in groups:
            if group.total.suppressed or not any(c.suppressed for c in group.members):
                continue
            remainder = group.total.value - sum(c.value for c in group.members if not c.suppressed)
            assert remainder >= sdc.PROTECTION_LEVEL, (values, group)


# --- Frozen cells ------------------------------------------------------------------------------------


def test_a_frozen_cell_keeps_what_was_published():
    shown, hidden = sdc.frozen_cell(3), sdc.frozen_cell(SUPPRESSED)
    protect([shown, hidden], [])
    assert shown.shown == 3 and hidden.shown == SUPPRESSED  # 3 persons: published before, stays
    assert hidden.value is None  # what was hidden was never stored


def test_open_cells_protect_a_frozen_hidden_month_and_frozen_cells_are_never_hidden_anew():
    """October (closed, frozen: "<5") and November (open, 7) make the open quarter (9): November
    is hidden, since October can no longer be shown and the quarter minus November would give it."""
    october, november, quarter = sdc.frozen_cell(SUPPRESSED), Cell(7, 7), Cell(9, 9)
    protect([october, november, quarter], [Group([october, november], quarter)])
    assert november.suppressed and not quarter.suppressed
    assert october.shown == SUPPRESSED


def test_a_frozen_shown_cell_is_not_chosen_to_complement_an_open_one():
    october, november, december, quarter = sdc.frozen_cell(6), Cell(2, 2), Cell(9, 9), Cell(17, 17)
    group = Group([october, november, december], quarter)
    protect([october, november, december, quarter], [group])
    assert october.shown == 6 and not october.suppressed
    assert november.suppressed and december.suppressed
    assert pinned([group]) == []


def test_the_audit_breaks_chains_with_open_cells_only():
    """A table whose first row is frozen (a closed month by organisation) and whose second row
    and margins are open: whatever the audit hides, it hides in the open part."""
    a, b, c = sdc.frozen_cell(SUPPRESSED), sdc.frozen_cell(SUPPRESSED), sdc.frozen_cell(12)
    row1 = sdc.frozen_cell(15)
    d, e, f = Cell(1, 1), Cell(8, 8), Cell(20, 20)
    row2 = Cell(29, 29)
    columns = [Cell(3, 3), Cell(10, 10), Cell(32, 32)]
    total = Cell(44, 44)
    groups = [Group([a, b, c], row1), Group([d, e, f], row2), Group([a, d], columns[0]),
              Group([b, e], columns[1]), Group([c, f], columns[2]), Group([row1, row2], total),
              Group(columns, total)]
    cells = [a, b, c, row1, d, e, f, row2, *columns, total]
    protect(cells, groups)
    assert [x.shown for x in (a, b, c, row1)] == [SUPPRESSED, SUPPRESSED, 12, 15]
    assert pinned(groups) == []
    assert not any(x.complementary for x in (a, b, c, row1))
