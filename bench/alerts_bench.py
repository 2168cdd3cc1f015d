"""Benchmark of the nightly alert sweep (called by ``bench/run.py``; prints, never asserts).

``main()`` assumes Django is set up and the demo world plus synthetic persons exist
(``manage.py seed_demo --persons N``). It works in a scratch copy of the benchmark
database (dropped at the end, so the benchmark database is left as it was), for 10,000
persons (the per-person narrowing of the same queries, over the first 10,000 ids) and for
the first BENCH_PERSONS (100,000; the whole population when smaller):

* the **first night**: every alert is new, so this includes delivering them (recipients,
  the sharing decision per recipient, texts, the disclosure log). For 10,000 persons it is
  rolled back; for the population it is committed, and the copy is vacuumed and analysed,
  as autovacuum would do before the next night;
* the **nightly** sweep: every night after the first (every rule evaluated over everybody,
  nothing new to open), five runs over the committed alerts, each rolled back;
* the **floor**: one plain SQL pass over the same rows (every row of every table the rules
  read, for the same persons, reading one column of each row), with no logic, taken just
  before and just after each nightly run (the faster of the two counts), so that a run and
  its floor see the machine alike. The run with the median ratio is reported, with the time
  of each part of that run.

It prints each time, the nightly sweep's ratio to the floor (the aim is under 5×), and how
each scales from 10,000 to 100,000 persons.
"""

from __future__ import annotations

import os
import time

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


def measure(small_ids: list[int], large_ids: list[int] | None) -> dict:
    """Both sizes, in the scratch copy of the benchmark database (see ``main``)."""
    from diagnostics.services import alerts_evaluate

    rows = {"small": floor_seconds(small_ids)[1], "large": floor_seconds(large_ids)[1]}
    cold_small, first_small = _sweep_rolled_back(small_ids)
    # the first night, committed: every alert of the population opened and delivered
    with transaction.atomic():
        cold_large, first_large = _timed(lambda: alerts_evaluate(person_ids=large_ids))
    # what autovacuum does between two nights, done now rather than waited for
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    nightly_large, run_large = _nightly(large_ids)
    nightly_small, run_small = _nightly(small_ids)
    out = {}
    for size, cold, first, nightly, run in (
        ("small", cold_small, first_small, nightly_small, run_small),
        ("large", cold_large, first_large, nightly_large, run_large),
    ):
        summary = first.summary()
        median_seconds, median_floor = nightly[len(nightly) // 2]
        out[size] = {
            "floor": median_floor,
            "rows": rows[size],
            "cold": cold,
            "nightly": median_seconds,
            "nightly_runs": nightly,
            "created": summary["created"],
            "deliveries": summary["deliveries"],
            "skipped": summary["skipped"],
            "households": run.households_seconds,
            "per_rule": {outcome.code: outcome.seconds for outcome in run.outcomes},
        }
    return out


def main() -> None:
    from bench.db import copy_database, drop_database
    from cases.models import Person

    small = int(os.environ.get("BENCH_ALERTS_SMALL", "10000"))
    large = int(os.environ.get("BENCH_PERSONS", "100000"))
    total = Person.objects.count()
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:small])
    # The search benchmark grows the database to 1,000,000; the sweep is measured on the
    # first BENCH_PERSONS of them (the population the target names).
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
    # night after: over committed, vacuumed alerts. That happens in a scratch copy of the
    # benchmark database, dropped afterwards, so the benchmark database is left as it was.
    source = connection.settings_dict["NAME"]
    scratch = f"{source}_alerts"
    connection.close()
    copy_database(source, scratch)
    connection.settings_dict["NAME"] = scratch
    try:
        results = measure(ids, large_ids)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source
        drop_database(scratch)
    labels = {"small": f"{len(ids):,} persons", "large": f"{total:,} persons"}
    for size in ("small", "large"):
        r = results[size]
        label = labels[size]
        print(
            f"  {label:<18} floor (plain SQL pass, {r['rows']:,} rows) {r['floor'] * 1000:8.1f} ms"
            " (taken around the median nightly run)"
        )
        ratios = ", ".join(f"{seconds / floor:.1f}×" for seconds, floor in r["nightly_runs"])
        print(
            f"  {'':<18} nightly sweep (nothing new)      {r['nightly'] * 1000:8.1f} ms   "
            f"{r['nightly'] / r['floor']:5.1f}× its floor (aim < 5×; the median of {ratios})"
        )
        print(
            f"  {'':<18} first night ({r['created']:,} alerts, {r['deliveries']:,} deliveries) "
            f"{r['cold'] * 1000:8.1f} ms   {r['cold'] / r['floor']:5.1f}× the floor"
        )
        if r["skipped"]:
            print(f"  {'':<18} rules skipped: {r['skipped']}")
        slowest = sorted(r["per_rule"].items(), key=lambda item: -item[1])
        parts = [f"{code} {seconds * 1000:.0f} ms" for code, seconds in slowest]
        if r["households"]:
            parts.insert(
                0, f"households shared by the household rules {r['households'] * 1000:.0f} ms"
            )
        print(f"  {'':<18} nightly by part: " + ", ".join(parts))
    rs, rb = results["small"], results["large"]
    if len(ids) and total > len(ids):
        print(
            f"  scaling {len(ids):,} → {total:,} persons (×{total / len(ids):.1f}): "
            f"nightly ×{rb['nightly'] / rs['nightly']:.1f}, "
            f"first night ×{rb['cold'] / rs['cold']:.1f}, floor ×{rb['floor'] / rs['floor']:.1f}"
        )
        if large_ids is None:
            print(
                "  note: the smaller run selects its persons by id (the per-person path, where the"
                " floor pays the same id filter); the whole-population run is the nightly path"
                " with no filter, over every household at once: the floors differ in kind,"
                " so compare the nightly and first-night times across sizes, not the floors"
            )


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")
    import django

    django.setup()
    main()
