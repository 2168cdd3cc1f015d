"""Benchmarks (make bench). Prints figures and ratios; never asserts timings.

Record endpoint: the median time of GET /api/v1/persons/{id}/record/ as an
employment counsellor reading social data under consent (full decision and
disclosure-log write), against a plain same-service read of the same persons.
The world is the demo world plus synthetic persons up to BENCH_PERSONS
(default 100,000), built with `manage.py seed_demo --persons`.

BENCH_ONLY=record,http_bench,search_bench,alerts_bench,pilots_bench runs a subset.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def use_bench_database() -> str:
    """Benchmarks run in a database of their own (BENCH_DATABASE, default ris_bench) on the same
    server, created on first use, so the developer's demo data is never touched. The search
    benchmark, which needs 1,000,000 persons, has another (bench/search_bench.py)."""
    from urllib.parse import urlsplit, urlunsplit

    from bench.db import create_database

    name = os.environ.get("BENCH_DATABASE", "ris_bench")
    parts = urlsplit(os.environ["DATABASE_URL"])
    create_database(name)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


BENCH_DATABASE = use_bench_database()

import django  # noqa: E402

django.setup()

from django.test import Client, override_settings  # noqa: E402

from cases.models import Person  # noqa: E402
from ris.accounts.models import Membership, Role  # noqa: E402
from sharing.caseload import persons_attended_by  # noqa: E402

TARGET = int(os.environ.get("BENCH_PERSONS", "100000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "400"))


def ensure_world() -> None:
    from bench.db import populate

    print(f"database: {BENCH_DATABASE}")
    populate(TARGET)
    print(f"persons in the database: {Person.objects.count():,}")


def timed_pairs(client: Client, pairs: list[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """Both requests of each pair, one after the other, so that whatever else the machine does
    weighs on both sides alike (and the order alternates, so neither always goes first)."""
    for pair in pairs[:10]:  # warm-up
        for url in pair:
            timed_once(client, url)
    first: list[float] = []
    second: list[float] = []
    for i, pair in enumerate(pairs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            (first if which == 0 else second).append(timed_once(client, pair[which]))
    return first, second


def timed_once(client: Client, url: str) -> float:
    """One request, in milliseconds; a request that fails stops the benchmark."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def describe(name: str, times: list[float]) -> float:
    times = sorted(times)
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{name:<52} median {median:7.2f} ms   p95 {p95:7.2f} ms   (n={len(times)})")
    return median


@override_settings(ROOT_URLCONF="bench.urls", DEBUG=False)
def bench_record() -> None:
    membership = (
        Membership.objects.filter(role=Role.EMPLOYMENT_COUNSELLOR, is_active=True)
        .select_related("organisation", "user").order_by("pk").first()
    )
    if membership is None:
        raise SystemExit("no employment counsellor in the demo world")
    ids = list(persons_attended_by(membership.organisation_id).order_by("?").values_list("pk", flat=True)[:SAMPLES])
    client = Client()
    client.force_login(membership.user)
    print(f"\nRecord endpoint, {len(ids)} persons attended by {membership.organisation}:")
    sharing_times, plain_times = timed_pairs(
        client, [(f"/api/v1/persons/{i}/record/?purpose=seguimiento", f"/bench/plain/{i}/") for i in ids]
    )
    shared = describe("sharing: decision + filtered record + disclosure log", sharing_times)
    plain = describe("plain same-service read (no sharing)", plain_times)
    print(f"{'cost of sharing (ratio, aim < 1.3x)':<52} {shared / plain:.2f}x")


def optional(module: str) -> None:
    """Run bench/<module>.py's main() when that benchmark exists."""
    import importlib

    try:
        bench = importlib.import_module(f"bench.{module}")
    except ModuleNotFoundError:
        return
    bench.main()


if __name__ == "__main__":
    # BENCH_ONLY=record,http_bench,... runs a subset (all by default).
    only = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    ensure_world()
    if not only or "record" in only:
        bench_record()
    # search last: it moves to its own, larger database
    for name in ("http_bench", "alerts_bench", "pilots_bench", "search_bench"):
        if not only or name in only:
            optional(name)
