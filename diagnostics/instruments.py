"""Scoring an exclusion assessment with a data-driven instrument.

An area's score is the sum of the scores of its items that are present; the total is
the sum of the areas. A level starts at its cut-off: the level of a score is the
highest level whose cut-off is not above it (no cut-off reached, or no cut-offs: no
level). The same rule applies to each area (its own cut-offs) and to the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .models import EXCLUSION_RANK, Area, CutOff, Instrument, Item


@dataclass(frozen=True)
class AreaScore:
    area_id: int
    kind: str
    score: Decimal
    level: str  # "" when the area has no cut-off reached


@dataclass(frozen=True)
class Scoring:
    total: Decimal
    level: str
    areas: tuple[AreaScore, ...]
    answers: tuple[tuple[int, bool, Decimal], ...]  # (item id, present, score applied)


def level_for(score: Decimal, cutoffs: Iterable[tuple[str, Decimal]]) -> str:
    """The highest level whose cut-off is at or below the score ("" if none)."""
    reached = [
        (min_score, EXCLUSION_RANK[level], level)
        for level, min_score in cutoffs
        if score >= min_score
    ]
    if not reached:
        return ""
    return max(reached, key=lambda r: (r[0], r[1]))[2]


def score(instrument: Instrument, present_item_ids: Iterable[int]) -> Scoring:
    """Score the instrument with the given items present; every item gets an answer."""
    present = set(present_item_ids)
    areas = list(Area.objects.filter(instrument=instrument).order_by("position"))
    items = list(
        Item.objects.filter(area__instrument=instrument).order_by("area__position", "position")
    )
    known = {i.pk for i in items}
    unknown = present - known
    if unknown:
        raise ValueError(f"items not in the instrument: {sorted(unknown)}")
    cutoffs = list(
        CutOff.objects.filter(instrument=instrument).values_list("area_id", "level", "min_score")
    )
    by_area: dict[int, Decimal] = {a.pk: Decimal(0) for a in areas}
    answers = []
    for item in items:
        is_present = item.pk in present
        applied = item.score if is_present else Decimal(0)
        by_area[item.area_id] += applied
        answers.append((item.pk, is_present, item.score))
    area_scores = tuple(
        AreaScore(
            area_id=a.pk,
            kind=a.kind,
            score=by_area[a.pk],
            level=level_for(by_area[a.pk], [(lv, m) for aid, lv, m in cutoffs if aid == a.pk]),
        )
        for a in areas
    )
    total = sum(by_area.values(), Decimal(0))
    total_level = level_for(total, [(lv, m) for aid, lv, m in cutoffs if aid is None])
    return Scoring(total=total, level=total_level, areas=area_scores, answers=tuple(answers))
