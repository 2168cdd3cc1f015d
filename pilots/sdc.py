"""Statistical disclosure control of the published aggregates.

Every published number is a ``Cell``: its value (a count of persons, a count of
events, or a median) and the number of distinct persons behind it. The rules:

1. **Primary suppression**: a cell that rests on 1 to 4 persons is suppressed. A
   zero is published: it rests on nobody. A median resting on fewer than 5 persons
   is suppressed too (a median of one value *is* that value).
2. **Complementary (secondary) suppression**: published tables carry totals, so a
   single suppressed cell could be recomputed as "total minus the visible cells".
   The additive relations of a table are declared as ``Group`` (members and their
   total). Whenever a group with a visible total has exactly one suppressed member,
   the next smallest visible non-zero member is suppressed as well; if there is
   none, the total is suppressed. Groups are revisited until nothing changes, since
   a suppression in one group (a row) can leave another (a column) with a single
   suppressed cell.
3. Every suppressed cell is shown the same way (``SUPPRESSED``), primary or
   complementary: telling them apart would tell that the complementary one is at
   least 5, and with the group's sum that can pin the primary one down.

Medians take no part in groups: they do not add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    changed = True
    while changed:
        changed = False
        for group in groups:
            if _complete_group(group):
                changed = True


def _complete_group(group: Group) -> bool:
    if group.total.suppressed:
        return False
    suppressed = [c for c in group.members if c.suppressed]
    if len(suppressed) != 1:
        return False
    candidates = [c for c in group.members if not c.suppressed and c.value]
    if candidates:
        nearest = min(candidates, key=lambda c: (c.value, c.persons))
        nearest.suppressed = True
        nearest.complementary = True
    else:
        group.total.suppressed = True
        group.total.complementary = True
    return True
