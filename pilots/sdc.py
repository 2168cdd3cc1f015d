"""Statistical disclosure control of the published aggregates.

Every published number is a ``Cell``: its value (a count of persons, a count of
events, or a median) and the number of distinct persons behind it. The rules:

1. **Primary suppression**: a cell that rests on 1 to 4 persons is suppressed. A
   zero is published: it rests on nobody. A median resting on fewer than 5 persons
   is suppressed too (a median of one value *is* that value).
2. **Complementary (secondary) suppression**: published tables carry totals, so a
   single suppressed cell could be recomputed as "total minus the visible cells", and
   a suppressed total as "the sum of its visible members". The additive relations of
   the published tables are declared as ``Group`` (members and their total): a group
   must never hide exactly one of its cells. Whenever a group with a visible total has
   exactly one suppressed member, the next smallest visible non-zero member is
   suppressed as well, or, if there is none, the total; whenever a group's total is
   suppressed and every member is visible, the smallest visible non-zero member is
   suppressed. Groups are revisited until nothing changes, since a suppression in one
   group (a row) can leave another (a column, or a longer period) with a single hidden
   cell.
3. **Audit**: hiding a second cell in every group is not always enough, since groups
   chain (a month is in its quarter, its organisation's row, its territory...) and
   several relations together can still pin a hidden cell down. So the relations are
   then solved exactly, as a reader would (Gaussian elimination over the rationals, the
   hidden cells being the unknowns): while some hidden cell is determined by the visible
   ones, one more cell of one of its groups (the smallest visible non-zero one) is
   hidden, and the completion and the audit run again.
4. Every suppressed cell is shown the same way (``SUPPRESSED``), primary or
   complementary: telling them apart would tell that the complementary one is at
   least 5, and with the group's sum that can pin the primary one down.

Medians take no part in groups: they do not add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

THRESHOLD = 5
SUPPRESSED = "<5"


@dataclass(eq=False)
class Cell:
    """One published number; compared by identity, so one cell may sit in several groups."""

    value: float | int | None
    persons: int
    additive: bool = True
    personal: bool = True  # False: a count of things that are not persons (meetings), never suppressed
    suppressed: bool = False
    complementary: bool = False  # internal only: never rendered nor exported

    @property
    def shown(self) -> float | int | str | None:
        """What a page or an export may carry."""
        return SUPPRESSED if self.suppressed else self.value

    def as_text(self, decimals: int = 1) -> str:
        if self.suppressed:
            return SUPPRESSED
        if self.value is None:
            return "—"
        if isinstance(self.value, float):
            return f"{self.value:.{decimals}f}".replace(".", ",")
        return f"{self.value:,}".replace(",", ".")  # Spanish grouping: 40.029


@dataclass(eq=False)
class Group:
    """An additive relation: the members add up to (or, for distinct persons, bound) the total."""

    members: list[Cell]
    total: Cell
    name: str = ""


@dataclass
class Protection:
    groups: list[Group] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


def needs_primary_suppression(cell: Cell) -> bool:
    if cell.value is None or not cell.personal:
        return False
    return 0 < cell.persons < THRESHOLD


def protect(cells: Iterable[Cell], groups: Iterable[Group]) -> None:
    """Apply primary and complementary suppression in place."""
    groups = list(groups)
    for cell in cells:
        if needs_primary_suppression(cell):
            cell.suppressed = True
    for group in groups:  # the members and totals of groups are cells too
        for cell in (*group.members, group.total):
            if needs_primary_suppression(cell):
                cell.suppressed = True
    while True:
        changed = True
        while changed:
            changed = False
            for group in groups:
                if _complete_group(group):
                    changed = True
        breakers = [breaker for _cell, breaker in exposed_cells(groups) if breaker is not None]
        if not breakers:
            return
        for cell in breakers:
            _hide(cell)


def _complete_group(group: Group) -> bool:
    """Hide a second cell of a group that hides exactly one: a member, else the total."""
    hidden = [c for c in (*group.members, group.total) if c.suppressed]
    if len(hidden) != 1:
        return False
    candidates = [c for c in group.members if not c.suppressed and c.value]
    if candidates:
        _hide(min(candidates, key=lambda c: (c.value, c.persons)))
    elif not group.total.suppressed:
        _hide(group.total)
    else:
        return False  # a hidden total over members that are all zero: nothing to protect
    return True


def _hide(cell: Cell) -> None:
    cell.suppressed = True
    cell.complementary = True


def exposed_cells(groups: list[Group]) -> list[tuple[Cell, Cell | None]]:
    """Hidden cells that the groups, read as equations (members minus total is zero), pin
    down from the visible cells: one per set of connected hidden cells, with the visible
    cell to hide so that it no longer is (the smallest one of its groups, a non-zero one if
    there is any; else of the connected set; None if nothing there is visible).

    Only the hidden cells are unknowns, so only the groups holding one are equations; they
    are solved in independent pieces (hidden cells linked by a group), each brought to
    reduced row echelon form: a hidden cell is determined when a row holds it alone."""
    equations = [g for g in groups if any(c.suppressed for c in (*g.members, g.total))]
    parent: dict[int, Cell] = {}

    def root(cell: Cell) -> Cell:
        while parent.setdefault(id(cell), cell) is not cell:
            parent[id(cell)] = parent[id(parent[id(cell)])]
            cell = parent[id(cell)]
        return cell

    for group in equations:
        hidden = [c for c in (*group.members, group.total) if c.suppressed]
        for cell in hidden[1:]:
            parent[id(root(cell))] = root(hidden[0])
    pieces: dict[int, list[Group]] = {}
    for group in equations:
        first = next(c for c in (*group.members, group.total) if c.suppressed)
        pieces.setdefault(id(root(first)), []).append(group)
    exposed = []
    for piece in pieces.values():
        determined = _determined(piece)
        if determined:
            cell = determined[0]
            its_groups = [g for g in piece if cell is g.total or any(cell is m for m in g.members)]
            exposed.append((cell, _breaker(its_groups) or _breaker(piece)))
    return exposed


def _determined(equations: list[Group]) -> list[Cell]:
    """The hidden cells a set of equations determines (cells keyed by identity)."""
    cells: dict[int, Cell] = {}
    basis: list[tuple[int, dict[int, Fraction]]] = []
    for group in equations:
        row: dict[int, Fraction] = {}
        for cell, sign in [(m, 1) for m in group.members] + [(group.total, -1)]:
            if cell.suppressed:
                cells[id(cell)] = cell
                row[id(cell)] = row.get(id(cell), Fraction(0)) + sign
        row = {c: v for c, v in row.items() if v}
        for pivot, base in basis:
            factor = row.get(pivot)
            if factor:
                _subtract(row, base, factor)
        if not row:
            continue
        pivot = next(iter(row))
        scale = row[pivot]
        row = {c: v / scale for c, v in row.items()}
        for _other, base in basis:
            factor = base.get(pivot)
            if factor:
                _subtract(base, row, factor)
        basis.append((pivot, row))
    return [cells[pivot] for pivot, row in basis if len(row) == 1]


def _subtract(row: dict[int, Fraction], base: dict[int, Fraction], factor: Fraction) -> None:
    for key, value in base.items():
        result = row.get(key, Fraction(0)) - factor * value
        if result:
            row[key] = result
        else:
            row.pop(key, None)


def _breaker(groups: list[Group]) -> Cell | None:
    visible = [c for g in groups for c in (*g.members, g.total) if not c.suppressed]
    return min(visible, key=lambda c: (not c.value, c.value or 0, c.persons), default=None)
