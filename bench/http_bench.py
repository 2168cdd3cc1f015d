"""Record page throughput: requests per second at 8 concurrent connections (wrk).

Starts gunicorn on a free loopback port with the project's settings (DEBUG off),
signs in an employment counsellor by creating a session, and lets wrk fetch the
record page of persons the counsellor's office attends, rotating over them with a
small Lua script. Then, as a yardstick on the same server and load, a bare view running 2
and 10 one-row queries (the figures the issue's aim was set against). Prints the figures;
asserts nothing. wrk comes from Debian's
packages (`apt-get install wrk`); without it the benchmark says so and stops.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


@dataclass
class WrkResult:
    per_second: float
    p50: str
    lines: list[str]


def _wrk(wrk: str, url: str, extra: list[str]) -> WrkResult:
    result = subprocess.run(
        [wrk, "-t2", "-c8", "-d15s", "--latency", *extra, url], capture_output=True, text=True, check=True
    )
    per_second, p50, lines = 0.0, "?", []
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            per_second = float(line.split()[1])
        if line.startswith("50%"):
            p50 = line.split()[1]
        if any(key in line for key in ("Requests/sec", "50%", "99%", "Non-2xx", "requests in")):
            lines.append(line)
    return WrkResult(per_second, p50, lines)


def main() -> None:
    from ris.accounts.models import Membership, Role
    from sharing.caseload import persons_attended_by

    wrk = shutil.which("wrk")
    if wrk is None:
        print("\nRecord page throughput: wrk is not installed (apt-get install wrk); skipped.")
        return
    membership = (
        Membership.objects.filter(role=Role.EMPLOYMENT_COUNSELLOR).select_related("user").order_by("pk").first()
    )
    ids = list(persons_attended_by(membership.organisation_id).order_by("?").values_list("pk", flat=True)[:200])
    cookie = _session_cookie(membership.user)
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0", "LOG_LEVEL": "ERROR"}
    workers = os.environ.get("BENCH_WEB_WORKERS", "3")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ris.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", workers,
         "--no-control-socket", "--log-level", "error"],
        cwd=ROOT, env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/salud/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                "local ids = {" + ",".join(map(str, ids)) + "}\nlocal i = 0\n"
                "request = function()\n  i = (i % #ids) + 1\n"
                "  return wrk.format('GET', '/espacio/personas/' .. ids[i] .. '/?finalidad=seguimiento')\nend\n"
            )
        record = _wrk(wrk, url, ["-s", script.name, "-H", f"Cookie: sessionid={cookie}"])
        print(f"\nRecord page, 8 connections, gunicorn {workers} workers, {len(ids)} persons rotated:")
        for line in record.lines:
            print("  " + line)
        print("  aim: >= 400 requests/sec on 2 cores")
        # The yardstick the aim was set against, on this machine and this server: a view that
        # runs N one-row queries through the same middleware, with no session or template.
        print("Yardstick, the same server and load: a bare view running N one-row queries")
        for queries in (2, 10):
            bare = _wrk(wrk, f"{url}/bench/bare/{queries}/", [])
            ratio = bare.per_second / record.per_second if record.per_second else float("nan")
            print(f"  {queries:>2} queries: {bare.per_second:,.0f} requests/sec, p50 {bare.p50}"
                  f"  (the record page serves 1/{ratio:.1f} of it)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
