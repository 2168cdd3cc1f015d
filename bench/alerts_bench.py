"""Benchmark of the nightly alert sweep (called by ``bench/run.py``; prints, never asserts).

``main()`` assumes Django is set up and the demo world plus synthetic persons exist
(``manage.py seed_demo --persons N``). It measures the sweep over two whole populations:
the first BENCH_PERSONS persons of the benchmark database (100,000; all of them when it
holds fewer), and a database of its own with 10,000 persons (``<bench database>_10000``,
seeded the same way on first use and kept), so that the scaling compares the same path.
It also measures the first 10,000 persons of the large population selected by id (the
per-person narrowing of the same queries, the path of a person's own evaluation).

Each population is measured in a scratch copy of its database, dropped at the end (the
benchmark databases are left as they were):

* the **first night**: every alert is new, so this includes delivering them (recipients,
  the sharing decision per recipient, texts, the disclosure log). It is committed, and the
  copy vacuumed and analysed, as autovacuum would do before the next night (the per-person
  figure's first night is rolled back);
* the **nightly** sweep: every night after the first (every rule evaluated over everybody,
  nothing new to open), five runs over the committed alerts, each rolled back;
* the **floor**: one plain SQL pass over the same rows (every row of every table the rules
  read, for the same persons, reading one column of each row), with no logic, taken just
  before and just after each nightly run (the faster of the two counts), so that a run and
  its floor see the machine alike. The run with the median ratio is reported, with the time
  of each part of that run.

It prints each time, the nightly sweep's ratio to the floor (the aim is under 5×), and how
the whole-population sweep scales from 10,000 to 100,000 persons.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from django.db import connection, transaction

FLOOR_SQL = """
SELECT
  (SELECT count(p.birth_date) FROM cases_person p WHERE {p}),
  (SELECT count(m.start_date) FROM cases_householdmember m WHERE {m}),
  (SELECT count(h.monthly_income) FROM cases_household h
     WHERE h.id IN (SELECT m.household_id FROM cases_householdmember m WHERE {m})),
  (SELECT count(d.deprivationitem_id) FROM cases_household_deprivation_items d
     WHERE d.household_id IN (SELECT m.household_id FROM cases_householdmember m WHERE {m})),
  (SELECT count(b.end_date) FROM cases_unemploymentbenefit b WHERE {b}),
  (SELECT count(j.unemployed_since) FROM cases_jobseekerrecord j WHERE {j}),
  (SELECT count(r.status) FROM cases_minimumincome r WHERE {r}),
  (SELECT count(s.severity) FROM cases_exclusionsituation s WHERE {s}),
  (SELECT count(ps.start_date) FROM cases_plannedservice ps WHERE {ps}),
  (SELECT count(d.kind) FROM cases_diaryentry d WHERE {d}),
  (SELECT count(e.start_date) FROM sharing_enrolment e WHERE {e}),
  (SELECT count(c.valid_until) FROM consent_consent c WHERE {c}),
  (SELECT count(a.state) FROM diagnostics_alert a WHERE {a})
"""


def _floor_sql(person_ids: list[int] | None) -> tuple[str, dict]:
    def only(alias: str, column: str = "person_id") -> str:
        return (
            "TRUE"
            if person_ids is None
            else f"{alias}.{column} IN (SELECT unnest(%(ids)s::bigint[]))"
        )

    sql = FLOOR_SQL.format(
        p=only("p", "id"),
        m=only("m"),
        b=only("b"),
        j=only("j"),
        r=only("r"),
        s=only("s"),
        ps=only("ps"),
        d=only("d"),
        e=only("e"),
        c=only("c"),
        a=only("a"),
    )
    return sql, {"ids": person_ids or []}


def floor_seconds(person_ids: list[int] | None, repeat: int = 3) -> tuple[float, int]:
    sql, params = _floor_sql(person_ids)
    best, rows = float("inf"), 0
    with connection.cursor() as cursor:
        for _ in range(repeat):
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = sum(cursor.fetchone())
            best = min(best, time.perf_counter() - started)
    return best, rows


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def _sweep_rolled_back(person_ids: list[int] | None):
    from diagnostics.services import alerts_evaluate

    with transaction.atomic():
        seconds, result = _timed(lambda: alerts_evaluate(person_ids=person_ids))
        transaction.set_rollback(True)
    return seconds, result


def _nightly(person_ids: list[int] | None, repeat: int = 5) -> tuple[list, object]:
    """The sweep over committed alerts, as every night after the first: ``repeat`` runs, each
    rolled back and each between two floors, so that a run and its floor share the machine's
    moment. Returns (sweep seconds, floor seconds) per run, by ratio, and the median run."""
    runs = []
    for _ in range(repeat):
        before, _rows = floor_seconds(person_ids)
        seconds, result = _sweep_rolled_back(person_ids)
        after, _rows = floor_seconds(person_ids)
        summary = result.summary()
        assert summary["created"] == 0 and summary["resolved"] == 0, (
            "a night with nothing new must open and resolve nothing"
        )
        runs.append((seconds, min(before, after), result))
    runs.sort(key=lambda run: run[0] / run[1])
    return [(seconds, floor) for seconds, floor, _ in runs], runs[len(runs) // 2][2]


@contextmanager
def _scratch_copy():
    """A copy of the current database, dropped afterwards: the first night is committed there."""
    from bench.db import copy_database, database, drop_database

    source = connection.settings_dict["NAME"]
    scratch = f"{source}_alerts"
    connection.close()
    copy_database(source, scratch)
    try:
        with database(scratch):
            yield
    finally:
        drop_database(scratch)


def _ensure_population(name: str, persons: int) -> None:
    """Database ``name`` with the demo world and synthetic persons up to ``persons`` (kept)."""
    from bench.db import create_database, database, populate

    create_database(name)
    with database(name):
        populate(persons)


def _figures(cold: float, first, nightly: list, run, rows: int) -> dict:
    summary = first.summary()
    median_seconds, median_floor = nightly[len(nightly) // 2]
    return {
        "floor": median_floor,
        "rows": rows,
        "cold": cold,
        "nightly": median_seconds,
        "nightly_runs": nightly,
        "created": summary["created"],
        "deliveries": summary["deliveries"],
        "skipped": summary["skipped"],
        "households": run.households_seconds,
        "per_rule": {outcome.code: outcome.seconds for outcome in run.outcomes},
        "first_per_rule": {
            outcome.code: (outcome.seconds, outcome.created) for outcome in first.outcomes
        },
    }


def measure_population(
    population_ids: list[int] | None, per_person_ids: list[int] | None = None
) -> dict:
    """In a scratch copy of the current database: the first night over the population,
    committed, then the nightly sweep over it; with ``per_person_ids``, also the same rules
    narrowed to those persons (the path of a person's own evaluation, for many at once)."""
    from diagnostics.services import alerts_evaluate

    out = {}
    with _scratch_copy():
        if per_person_ids:
            cold_few, first_few = _sweep_rolled_back(per_person_ids)
        rows = floor_seconds(population_ids)[1]
        # as the beat task runs it: outside any transaction, so each rule commits its own
        # (one transaction around the whole night made its last rules 2-3 times slower)
        cold, first = _timed(lambda: alerts_evaluate(person_ids=population_ids))
        # what autovacuum does between two nights, done now rather than waited for
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        nightly, run = _nightly(population_ids)
        out["population"] = _figures(cold, first, nightly, run, rows)
        if per_person_ids:
            nightly_few, run_few = _nightly(per_person_ids)
            out["per_person"] = _figures(
                cold_few, first_few, nightly_few, run_few, floor_seconds(per_person_ids)[1]
            )
    return out


def _print(label: str, r: dict, floor_kind: str) -> None:
    print(f"  {label}")
    print(
        f"    floor ({floor_kind}, {r['rows']:,} rows) {r['floor'] * 1000:8.1f} ms"
        " (taken around the median nightly run)"
    )
    ratios = ", ".join(f"{seconds / floor:.1f}×" for seconds, floor in r["nightly_runs"])
    print(
        f"    nightly sweep (nothing new)     {r['nightly'] * 1000:8.1f} ms   "
        f"{r['nightly'] / r['floor']:5.1f}× its floor (aim < 5×; the median of {ratios})"
    )
    print(
        f"    first night ({r['created']:,} alerts, {r['deliveries']:,} deliveries) "
        f"{r['cold'] * 1000:8.1f} ms   {r['cold'] / r['floor']:5.1f}× the floor"
    )
    if r["skipped"]:
        print(f"    rules skipped: {r['skipped']}")
    slowest = sorted(r["per_rule"].items(), key=lambda item: -item[1])
    parts = [f"{code} {seconds * 1000:.0f} ms" for code, seconds in slowest]
    if r["households"]:
        parts.insert(0, f"households shared by the household rules {r['households'] * 1000:.0f} ms")
    print("    nightly by part: " + ", ".join(parts))
    first = sorted(r["first_per_rule"].items(), key=lambda item: -item[1][0])
    print(
        "    first night by rule: "
        + ", ".join(
            f"{code} {seconds:.1f} s ({created:,} alerts)"
            for code, (seconds, created) in first
            if created
        )
    )


def main() -> None:
    from bench.db import database
    from cases.models import Person

    small = int(os.environ.get("BENCH_ALERTS_SMALL", "10000"))
    large = int(os.environ.get("BENCH_PERSONS", "100000"))
    total = Person.objects.count()
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:small])
    # The sweep is measured on the first BENCH_PERSONS persons of the benchmark database
    # (the population the target names), all of them when it holds no more.
    large_ids = None
    if total > large:
        large_ids = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:large])
        total = large
    print(f"\nAlert sweep (diagnostics.nightly_sweep), {total:,} persons swept:")
    if total < 100_000:
        print(
            f"  note: fewer than 100,000 persons; the large run uses all {total:,} "
            "(seed with manage.py seed_demo --persons N)"
        )
    # The first night commits its alerts, so that the nightly sweep is measured as it runs every
    # night after it: over committed, vacuumed alerts, in a scratch copy of the database, dropped
    # afterwards (the benchmark databases are left as they were).
    big = measure_population(large_ids, per_person_ids=ids)
    small_database = f"{connection.settings_dict['NAME']}_{small}"
    _ensure_population(small_database, small)
    with database(small_database):
        little = measure_population(None)
    pop, few, per = big["population"], little["population"], big["per_person"]
    _print(f"{total:,} persons, the whole population", pop, "plain SQL pass")
    _print(f"{small:,} persons, a whole population of their own", few, "plain SQL pass")
    _print(
        f"{len(ids):,} persons of the {total:,}, selected by id (a person's own evaluation)",
        per,
        "the same pass, filtered by the same ids",
    )
    print(
        f"  scaling of the whole-population sweep, {small:,} → {total:,} persons "
        f"(×{total / small:.1f}): nightly ×{pop['nightly'] / few['nightly']:.1f}, "
        f"first night ×{pop['cold'] / few['cold']:.1f}, floor ×{pop['floor'] / few['floor']:.1f}"
    )


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")
    import django

    django.setup()
    main()
