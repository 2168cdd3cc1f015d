"""Statistical disclosure control: what an evaluator may never be able to read or recompute.

Primary rule: a cell resting on 1 to 4 persons is shown as "<5". Complementary rule: in
a group of cells that add up to a visible total, one suppressed cell alone could be
recomputed as "total minus the visible cells", so a second cell (the next smallest) or
the total is suppressed too.
"""

from __future__ import annotations

from pilots.sdc import SUPPRESSED, Cell, Group, protect


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
