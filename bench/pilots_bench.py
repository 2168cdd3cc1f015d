"""Benchmark of the pilot indicators: the whole indicator set of one pilot over every person.

``main()`` expects Django to be set up by the caller, with the demo world and the synthetic
persons present (``manage.py seed_demo --persons N``). It builds, inside a transaction that
is rolled back, one pilot with every demo organisation (so that every person of the demo
caseloads is in it), and times, over the pilot's whole period:

- the platform indicators (``pilots.indicators.publish``: one SQL statement per source,
  with disclosure control), and each source alone;
- the two ESF+ tables (one SQL statement each).

It prints figures and never asserts timings.
"""

from __future__ import annotations

import os
import statistics
import time

RUNS = int(os.environ.get("BENCH_PILOT_RUNS", "5"))


class _Rollback(Exception):
    pass


def _timed(function, runs: int = RUNS) -> tuple[float, object]:
    result = None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cases.demo import ORGANISATION_CODES
    from pilots import esf
    from pilots.indicators import SOURCES, publish, run_source
    from pilots.models import FundingLine, Pilot
    from pilots.selectors import default_period, scope_for
    from ris.accounts.models import Organisation
    from sharing.models import Enrolment

    organisations = list(Organisation.objects.filter(code__in=ORGANISATION_CODES))
    if not organisations:
        raise SystemExit("no demo world: run manage.py seed_demo first")
    today = timezone.localdate()
    try:
        with transaction.atomic():
            first = Enrolment.objects.filter(organisation__in=organisations).order_by("start_date").first()
            pilot = Pilot.objects.create(
                name="Piloto de prueba de rendimiento", code="piloto-bench", community=organisations[0].community,
                start_date=first.start_date if first else today, funding_lines=[FundingLine.ESF_PLUS],
                objectives="Medir el coste de los indicadores.",
            )
            pilot.organisations.set(organisations)
            start, end = default_period(pilot=pilot, today=today)
            scope = scope_for(pilot=pilot, start=start, end=end, today=today)
            persons = Enrolment.objects.filter(organisation__in=organisations).values("person").distinct().count()
            print(f"\nPilot indicators: {persons:,} persons attended by {len(organisations)} organisations, "
                  f"{len(scope.months)} months ({start:%m/%Y}–{end:%m/%Y}), median of {RUNS} runs")

            with CaptureQueriesContext(connection) as queries:
                median, publication = _timed(lambda: publish(scope), runs=1)
            median, publication = _timed(lambda: publish(scope))
            print(f"{'publish: every indicator, protected':<52} {median:9.1f} ms   "
                  f"({len(queries.captured_queries)} queries)")
            for source in SOURCES:
                source_median, _tables = _timed(lambda source=source: run_source(source, scope))
                print(f"  {source.code:<50} {source_median:9.1f} ms")
            for name, table in (("ESF+ participants (outputs)", esf.participants_table),
                                ("ESF+ leavers (immediate results)", esf.leavers_table)):
                table_median, result = _timed(lambda table=table: table(scope))
                print(f"{name:<52} {table_median:9.1f} ms   (participants: {result.rows[0].total.as_text()})")
            attended = publication.table("persons_attended").total.as_text()
            print(f"{'persons attended (published)':<52} {attended:>9}")
            raise _Rollback
    except _Rollback:
        pass


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")
    import django

    django.setup()
    main()
