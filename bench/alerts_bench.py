"""Benchmark of the nightly alert sweep (called by ``bench/run.py``; prints, never asserts).

``main()`` assumes Django is set up and the demo world plus synthetic persons exist
(``manage.py seed_demo --persons N``). For 10,000 persons (the per-person narrowing of
the same queries, over the first 10,000 ids) and for the first BENCH_PERSONS
(100,000; the whole population when smaller), it times inside a transaction that is rolled back, so the database is left
as it was:

* the **cold** sweep: every alert is new, so this includes delivering them (recipients,
  the sharing decision per recipient, texts, the disclosure log);
* the **nightly** sweep: the same sweep run again, as every night after the first (every
  rule evaluated over everybody, nothing new to open);
* the **floor**: one plain SQL pass over the same rows (every row of every table the rules
  read, for the same persons, reading one column of each row), with no logic.

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


def measure(person_ids: list[int] | None) -> dict:
    from diagnostics.services import alerts_evaluate

    with transaction.atomic():
        floor, rows = floor_seconds(person_ids)
        cold, first = _timed(lambda: alerts_evaluate(person_ids=person_ids))
        nightly, again = _timed(lambda: alerts_evaluate(person_ids=person_ids))
        floor_after, _ = floor_seconds(person_ids)
        # where the nightly time goes: each rule alone, with the alerts the cold sweep opened
        per_rule = {
            outcome.code: _timed(lambda code=outcome.code: alerts_evaluate(person_ids=person_ids, codes=[code]))[0]
            for outcome in again.outcomes
        }
        transaction.set_rollback(True)
    summary = first.summary()
    assert again.summary()["created"] == 0, "the second sweep must not open anything"
    return {
        "floor": min(floor, floor_after),
        "rows": rows,
        "cold": cold,
        "nightly": nightly,
        "created": summary["created"],
        "deliveries": summary["deliveries"],
        "skipped": summary["skipped"],
        "per_rule": per_rule,
    }


def main() -> None:
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
    results = {}
    for label, person_ids, size in (
        (f"{len(ids):,} persons", ids, len(ids)),
        (f"{total:,} persons", large_ids, total),
    ):
        r = measure(person_ids)
        results[size] = r
        print(
            f"  {label:<18} floor (plain SQL pass, {r['rows']:,} rows) {r['floor'] * 1000:8.1f} ms"
        )
        print(
            f"  {'':<18} nightly sweep (nothing new)      {r['nightly'] * 1000:8.1f} ms   "
            f"{r['nightly'] / r['floor']:5.1f}× the floor (aim < 5×)"
        )
        print(
            f"  {'':<18} cold sweep ({r['created']:,} alerts, {r['deliveries']:,} deliveries) "
            f"{r['cold'] * 1000:8.1f} ms   {r['cold'] / r['floor']:5.1f}× the floor"
        )
        if r["skipped"]:
            print(f"  {'':<18} rules skipped: {r['skipped']}")
        slowest = sorted(r["per_rule"].items(), key=lambda item: -item[1])
        print(
            f"  {'':<18} nightly by rule: "
            + ", ".join(f"{code} {seconds * 1000:.0f} ms" for code, seconds in slowest)
        )
    if len(results) == 2 and len(ids) and total > len(ids):
        (s, rs), (b, rb) = sorted(results.items())
        print(
            f"  scaling {s:,} → {b:,} persons (×{b / s:.1f}): nightly ×{rb['nightly'] / rs['nightly']:.1f}, "
            f"cold ×{rb['cold'] / rs['cold']:.1f}, floor ×{rb['floor'] / rs['floor']:.1f}"
        )
        if large_ids is None:
            print(
                "  note: the smaller run selects its persons by id (the per-person path, where the"
                " floor pays the same id filter); the whole-population run is the nightly path"
                " with no filter, whose floor is a bare parallel count: the floors differ in kind,"
                " so compare the nightly and cold times across sizes, not the floors"
            )


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")
    import django

    django.setup()
    main()
