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
4. **Protection interval of one relation**: the audit stops a hidden cell from being
   recomputed exactly, but a relation whose total is shown also tells a reader what its
   hidden cells add up to (the total minus the shown members), and each of them lies
   between 0 and that remainder. Were the remainder 1 or 2, two hidden cells of 1 would be
   known to be at most 2. So whenever the hidden members of a group with a shown total add
   up to less than ``PROTECTION_LEVEL`` (5, the threshold), one more cell is hidden as in
   rule 2: read alone, no relation narrows a hidden cell below "0 to 5", which is no more
   than "<5" already says. Several relations read together, with the knowledge that counts
   are not negative (linear programming), can still narrow a hidden cell further: that is
   not bounded here (decision 0012).
5. Every suppressed cell is shown the same way (``SUPPRESSED``), primary or
   complementary: telling them apart would tell that the complementary one is at
   least 5, and with the group's sum that can pin the primary one down.

**Frozen cells.** A cell of a closed period was published once and can no longer change
(``locked``): it is neither suppressed nor shown anew, and the rules above choose the
cells they hide among the others (the cells of the periods still open). A locked cell
that was suppressed carries no value (``frozen_cell``): the snapshot stores what was
published, nothing more.

Medians take no part in groups: they do not add up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

logger = logging.getLogger(__name__)

THRESHOLD = 5
SUPPRESSED = "<5"
#: The least the hidden members of a group with a shown total may add up to (rule 4).
PROTECTION_LEVEL = THRESHOLD


@dataclass(eq=False)
class Cell:
    """One published number; compared by identity, so one cell may sit in several groups."""

    value: float | int | None
    persons: int
    additive: bool = True
    personal: bool = True  # False: a count of things that are not persons (meetings), never suppressed
    suppressed: bool = False
    complementary: bool = False  # internal only: never rendered nor exported
    locked: bool = False  # published in a frozen period: neither suppressed nor shown anew

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


def frozen_cell(shown, *, additive: bool = True, personal: bool = True) -> Cell:
    """A cell of a frozen period, from what was published: a number, ``SUPPRESSED`` or None."""
    if shown == SUPPRESSED:
        return Cell(None, 0, additive=additive, personal=personal, suppressed=True, locked=True)
    return Cell(shown, 0, additive=additive, personal=personal, locked=True)


def unpublished_cell(*, additive: bool = True, personal: bool = True) -> Cell:
    """A cell a frozen period did not publish (an organisation that joined the pilot later):
    to a reader it is unknown, like a suppressed cell, and it can no longer be shown."""
    return Cell(None, 0, additive=additive, personal=personal, suppressed=True, locked=True)


def needs_primary_suppression(cell: Cell) -> bool:
    if cell.value is None or not cell.personal or cell.locked:
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
        exposed = exposed_cells(groups)
        breakers = [breaker for _cell, breaker in exposed if breaker is not None]
        if len(breakers) < len(exposed):  # every cell around it frozen: cannot happen (decision 0012)
            logger.error("Statistical disclosure control: %s hidden cells determined with no cell left to hide",
                         len(exposed) - len(breakers))
        if not breakers:
            return
        for cell in breakers:
            _hide(cell)


def _complete_group(group: Group) -> bool:
    """Hide one more cell of a group that hides exactly one (a member, else the total), or
    whose hidden members add up to less than ``PROTECTION_LEVEL`` under a shown total."""
    total = group.total
    hidden = [c for c in group.members if c.suppressed]
    candidates = [c for c in group.members if not c.suppressed and c.value and not c.locked]
    if total.suppressed:
        if hidden or not candidates:
            return False  # two hidden cells; or a hidden total over members all zero or frozen
        _hide(min(candidates, key=lambda c: (c.value, c.persons)))
        return True
    if not hidden:
        return False
    if len(hidden) >= 2 and not 0 <= _remainder(group) < PROTECTION_LEVEL:
        return False  # a negative remainder: the members overlap (distinct persons), no upper bound
    if candidates:
        _hide(min(candidates, key=lambda c: (c.value, c.persons)))
    elif not total.locked:
        _hide(total)
    else:
        return False  # every other cell is frozen: the audit looks for a cell to hide elsewhere
    return True


def _remainder(group: Group) -> float:
    """What a reader learns the hidden members add up to: the total minus the shown members."""
    return (group.total.value or 0) - sum(c.value or 0 for c in group.members if not c.suppressed)


def _hide(cell: Cell) -> None:
    assert not cell.locked, "a frozen cell cannot be hidden anew"
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
    visible = [c for g in groups for c in (*g.members, g.total) if not c.suppressed and not c.locked]
    return min(visible, key=lambda c: (not c.value, c.value or 0, c.persons), default=None)
