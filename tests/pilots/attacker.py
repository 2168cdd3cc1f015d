"""An evaluator trying to recover a suppressed cell from what the downloads showed.

The attacker knows only what an evaluator can read: the downloaded files (their period and
selection, from their first rows) and the published definitions, which say which figures
add up: the organisations of a period add up to its total, the territories too, the
organisations of a territory to the territory, the alert rules (data categories, bases) to
the total, the sexes of an ESF+ row to the row's total, the labour-situation (age band,
education level) rows to the participants; and a period's figure is the sum of its
months' figures, for every measure that counts events or persons in the period (not for
those measured on the period's last day, nor for medians).

``Knowledge`` collects every shown figure under the quantity it names (a measure, a span of
months, and whole pilot / a territory / an organisation / an extra key / a sex). Its
``recovered`` solves the system of relations exactly (Gaussian elimination over the
rationals on the unknowns: the suppressed and the never-shown quantities) and returns the
suppressed quantities it pins down: the strongest attack by addition and subtraction of
published figures, of which "a coarser total minus the finer cells" is the simplest case.

Narrowing without pinning down: ``narrow_relations`` lists the relations that alone tell the
suppressed members of a shown total add up to less than 5 (``pilots.sdc`` rule 4 forbids
them); ``narrowed`` bounds every suppressed quantity by propagating the relations with
counts never negative (``intervals``), which chains relations as a patient reader with a
spreadsheet would; a linear program could narrow further still.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

SUPPRESSED = "<5"
#: Measured on the last day of the period, needing two services within it, or medians: no sum
#: over shorter periods.
NOT_SUMS_OVER_TIME = {
    "persons_with_basis", "arope_households_with_minors", "arope_children", "persons_multi_service",
    "referral_answer_days", "plan_first_contact_days", "alert_resolution_days",
}
MEDIANS = {"referral_answer_days", "plan_first_contact_days", "alert_resolution_days"}
ESF_PARTITIONS = (
    ("unemployed", "inactive", "employed", "labour_unknown"),
    ("below_18", "age_18_29", "age_30_54", "age_55_plus"),
    ("isced_0_2", "isced_3_4", "isced_5_8", "isced_unknown"),
)
WHOLE = ("all",)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def months_of(span: tuple[dt.date, dt.date]) -> list[tuple[dt.date, dt.date]]:
    start, end = span
    months, current = [], start
    while current <= end:
        months.append((current, month_end(current)))
        current = month_end(current) + dt.timedelta(days=1)
    return months


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip(), "%d/%m/%Y").date()


def _month(text: str) -> tuple[dt.date, dt.date]:
    month, year = text.strip().split("/")
    first = dt.date(int(year), int(month), 1)
    return first, month_end(first)


@dataclass
class File:
    """One downloaded CSV: its period, its selection and its rows."""

    span: tuple[dt.date, dt.date]
    selection: str | None  # None: the file does not say (the whole pilot)
    header: list[str]
    rows: list[list[str]]


def read_csv(content: bytes) -> File:
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    meta, rest = {}, []
    for i, line in enumerate(lines):
        if not line:
            rest = lines[i + 1:]
            break
        if len(line) >= 2:
            meta[line[0]] = line[1]
    start, end = (part for part in re.split(r"\s+–\s+", meta["Periodo"]))
    return File((_day(start), _day(end)), meta.get("Selección"), rest[0], [r for r in rest[1:] if r])


def _value(text: str):
    text = text.strip()
    if text == SUPPRESSED:
        return SUPPRESSED
    if not text or text == "no disponible":
        return None
    if "," in text:
        return None  # a median (decimal comma): not a count
    return int(text)


@dataclass
class Knowledge:
    """Every figure shown, by quantity: ``(dataset, measure, span, key)``."""

    shown: dict[tuple, set] = field(default_factory=lambda: defaultdict(set))
    organisations: dict[str, str] = field(default_factory=dict)  # organisation name -> territory label
    spans: set[tuple[dt.date, dt.date]] = field(default_factory=set)
    extra_keys: dict[str, set[tuple]] = field(default_factory=lambda: defaultdict(set))
    measures: set[str] = field(default_factory=set)

    def see(self, quantity: tuple, value) -> None:
        if value is not None:
            self.shown[quantity].add(value)

    # --- reading files ----------------------------------------------------------------------

    def read_indicators(self, file: File, territories: Iterable[str]) -> None:
        """Rows: code; label; breakdown; breakdown value; value."""
        territories = set(territories)
        selected = file.selection
        if selected is None or selected == "Todo el piloto":
            key = WHOLE
        elif selected in territories:
            key = ("terr", selected)
        else:
            key = ("org", selected)
        self.spans.add(file.span)
        for code, _label, breakdown, what, value in file.rows:
            if code in MEDIANS:
                continue
            self.measures.add(code)
            value = _value(value)
            span = file.span
            if breakdown == "Total":
                quantity = key
            elif breakdown == "Mes":
                span, quantity = _month(what), key
            elif breakdown == "Organización":
                quantity = ("org", what)
                if key[0] == "terr":
                    self.organisations[what] = key[1]
            elif breakdown == "Territorio":
                quantity = ("terr", what)
            elif breakdown in ("Organización y mes", "Territorio y mes"):
                name, month = what.rsplit(" · ", 1)
                span, quantity = _month(month), ("org" if breakdown.startswith("Org") else "terr", name)
                if key[0] == "terr" and quantity[0] == "org":
                    self.organisations[name] = key[1]
            else:
                quantity = ("extra", breakdown, what)
                self.extra_keys[code].add(quantity)
            self.spans.add(span)
            self.see(("ind", code, span, quantity), value)

    def read_esf(self, file: File) -> None:
        """Rows: table; code; label; reference; one column per sex; total; approximation."""
        sexes = file.header[4:-2]
        self.spans.add(file.span)
        for row in file.rows:
            code = row[1]
            self.measures.add(f"esf:{code}")
            for sex, value in zip(sexes, row[4:-2], strict=True):
                self.see(("esf", code, file.span, sex), _value(value))
            self.see(("esf", code, file.span, "Total"), _value(row[-2]))

    # --- what the shown figures say -------------------------------------------------------------

    def contradictions(self) -> dict[tuple, set]:
        """Quantities shown with two different values (a number in one file and "<5" in another
        is a plain disclosure: the number is the suppressed cell)."""
        return {q: values for q, values in self.shown.items() if len(values) > 1}

    def relations(self) -> list[list[tuple[int, tuple]]]:
        """Every additive relation the definitions state, as signed terms summing to zero."""
        relations = []
        indicator_keys: dict[str, set[tuple]] = defaultdict(set)
        esf_keys: dict[str, set[str]] = defaultdict(set)
        for dataset, code, _span, key in self.shown:
            (indicator_keys if dataset == "ind" else esf_keys)[code].add(key)
        territories = {k[1] for keys in indicator_keys.values() for k in keys if k[0] == "terr"}
        organisations = {k[1] for keys in indicator_keys.values() for k in keys if k[0] == "org"}
        for code, keys in indicator_keys.items():
            for span in self.spans:
                q = lambda key, span=span, code=code: ("ind", code, span, key)  # noqa: E731
                relations.append([(1, q(WHOLE))] + [(-1, q(("org", o))) for o in sorted(organisations)])
                relations.append([(1, q(WHOLE))] + [(-1, q(("terr", t))) for t in sorted(territories)])
                for territory in sorted(territories):
                    members = [o for o, t in self.organisations.items() if t == territory]
                    if members:
                        relations.append([(1, q(("terr", territory)))] + [(-1, q(("org", o))) for o in members])
                by_dim: dict[str, list[tuple]] = defaultdict(list)
                for extra in self.extra_keys.get(code, ()):
                    by_dim[extra[1]].append(extra)
                for extras in by_dim.values():
                    relations.append([(1, q(WHOLE))] + [(-1, q(e)) for e in sorted(extras)])
            if code not in NOT_SUMS_OVER_TIME:
                relations += self._over_time("ind", code, keys)
        for code, keys in esf_keys.items():
            sexes = sorted(keys - {"Total"})
            for span in self.spans:
                relations.append([(1, ("esf", code, span, "Total"))] + [(-1, ("esf", code, span, s)) for s in sexes])
            relations += self._over_time("esf", code, keys)
        for partition in ESF_PARTITIONS:
            if not all(code in esf_keys for code in partition):
                continue
            for span in self.spans:
                for key in esf_keys["total"]:
                    relations.append([(1, ("esf", "total", span, key))]
                                     + [(-1, ("esf", code, span, key)) for code in partition])
        return relations

    def _over_time(self, dataset: str, code: str, keys: set) -> list:
        relations = []
        for span in self.spans:
            months = months_of(span)
            if len(months) < 2:
                continue
            for key in keys:
                relations.append([(1, (dataset, code, span, key))] + [(-1, (dataset, code, m, key)) for m in months])
        return relations

    def suppressed(self) -> set[tuple]:
        return {q for q, values in self.shown.items() if values == {SUPPRESSED}}

    def equations(self) -> list[tuple[dict, Fraction]]:
        """The relations with the shown figures moved to the right-hand side: unknowns only."""
        known = {q: next(iter(v)) for q, v in self.shown.items() if len(v) == 1 and SUPPRESSED not in v}
        rows = []
        for relation in self.relations():
            row: dict[tuple, Fraction] = {}
            constant = Fraction(0)
            for sign, quantity in relation:
                if quantity in known:
                    constant += sign * known[quantity]
                else:
                    row[quantity] = row.get(quantity, Fraction(0)) + sign
            row = {q: c for q, c in row.items() if c}
            if row:
                rows.append((row, -constant))
        return rows

    def recovered(self) -> dict[tuple, Fraction]:
        """The suppressed quantities that the relations pin down, with the value they get."""
        solved = _solve(self.equations())
        hidden = self.suppressed()
        return {q: value for q, value in solved.items() if q in hidden}

    def narrow_relations(self, level: int = 5) -> list[tuple[list, Fraction]]:
        """Relations that alone narrow suppressed quantities: a shown total whose suppressed
        members add up (the total minus the shown members) to less than ``level``, so that each
        of them is known to be smaller. (relation, what the suppressed members add up to)."""
        known = {q: next(iter(v)) for q, v in self.shown.items() if len(v) == 1 and SUPPRESSED not in v}
        hidden = self.suppressed()
        narrow = []
        for relation in self.relations():
            (_sign, total), members = relation[0], relation[1:]
            if total not in known or not all(q in known or q in hidden for _s, q in members):
                continue
            unknown = [q for _s, q in members if q not in known]
            remainder = known[total] - sum(known[q] for _s, q in members if q in known)
            if unknown and remainder < level:
                narrow.append((relation, remainder))
        return narrow

    def narrowed(self) -> dict[tuple, tuple[Fraction, Fraction]]:
        """The suppressed quantities that the relations, with counts never negative, bound from
        above (``intervals``), with the interval they get."""
        hidden = self.suppressed()
        return {q: bounds for q, bounds in intervals(self.equations()).items()
                if q in hidden and bounds[1] is not None}


def _solve(rows: list[tuple[dict, Fraction]]) -> dict[tuple, Fraction]:
    """Reduced row echelon form, kept reduced as each equation comes in; an unknown is pinned
    down when a row holds it alone."""
    basis: list[tuple[tuple, dict, Fraction]] = []
    for row, rhs in rows:
        row = dict(row)
        for pivot, base, base_rhs in basis:
            factor = row.get(pivot)
            if factor:
                for q, c in base.items():
                    value = row.get(q, Fraction(0)) - factor * c
                    if value:
                        row[q] = value
                    else:
                        row.pop(q, None)
                rhs -= factor * base_rhs
        if not row:
            continue
        pivot = min(row, key=repr)
        scale = row[pivot]
        row = {q: c / scale for q, c in row.items()}
        rhs = rhs / scale
        reduced = []
        for other, base, base_rhs in basis:
            factor = base.get(pivot)
            if factor:
                for q, c in row.items():
                    value = base.get(q, Fraction(0)) - factor * c
                    if value:
                        base[q] = value
                    else:
                        base.pop(q, None)
                base_rhs -= factor * rhs
            reduced.append((other, base, base_rhs))
        basis = reduced + [(pivot, row, rhs)]
    return {pivot: rhs for pivot, row, rhs in basis if len(row) == 1}


def intervals(relations: list[tuple[dict, Fraction]], rounds: int = 50) -> dict[tuple, tuple[Fraction, Fraction]]:
    """Bounds on every unknown that the relations give with counts never negative: each
    relation ``sum(c * x) = rhs`` bounds each of its unknowns by the bounds of the others, over
    and over until nothing narrows (interval propagation: sound, not always the tightest a
    linear program would find). ``None`` as an upper bound: unbounded."""
    bounds: dict[tuple, list] = {}
    for row, _rhs in relations:
        for q in row:
            bounds.setdefault(q, [Fraction(0), None])
    for _ in range(rounds):
        changed = False
        for row, rhs in relations:
            for q, c in row.items():
                low_rest, high_rest = Fraction(0), Fraction(0)  # bounds of sum(other c * x)
                for other, oc in row.items():
                    if other == q:
                        continue
                    lo, hi = bounds[other]
                    if oc > 0:
                        low_rest += oc * lo
                        high_rest = None if high_rest is None or hi is None else high_rest + oc * hi
                    else:
                        high_rest = None if high_rest is None else high_rest + oc * lo
                        low_rest = None if low_rest is None or hi is None else low_rest + oc * hi
                # c * x = rhs - rest, with rest in [low_rest, high_rest]
                top = None if low_rest is None else rhs - low_rest
                bottom = None if high_rest is None else rhs - high_rest
                lo, hi = (bottom, top) if c > 0 else (top, bottom)
                lo = None if lo is None else lo / c
                hi = None if hi is None else hi / c
                current = bounds[q]
                if lo is not None and lo > current[0]:
                    current[0], changed = lo, True
                if hi is not None and (current[1] is None or hi < current[1]):
                    current[1], changed = hi, True
        if not changed:
            break
    return {q: (lo, hi) for q, (lo, hi) in bounds.items()}
