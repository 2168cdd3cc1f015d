"""A real Celery worker, on the real Redis broker, answers ``ris.ping``.

Not eager mode: the test starts ``celery -A ris worker`` as a child process listening
on a queue of its own, sends the task through the broker and reads "pong" from the
result backend. It always stops the worker it started. The test command provides
Redis (``REDIS_URL``); if it is unreachable the test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from ris.celery import ping

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROUND_TRIP_SECONDS = 30


def start_worker(queue: str, log) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ris.settings", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ris",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-l",
            "INFO",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


def test_a_real_worker_answers_ping_through_redis():
    assert os.environ.get("REDIS_URL"), "the test command must provide REDIS_URL"
    assert not ping.app.conf.task_always_eager
    queue = f"ris-test-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = start_worker(queue, log)
        try:
            result = ping.apply_async(queue=queue)
            answer = result.get(timeout=ROUND_TRIP_SECONDS)
            result.forget()
        except Exception as exc:
            log.seek(0)
            pytest.fail(f"no answer from the worker ({exc!r}); its log:\n{log.read()[-4000:]}")
        finally:
            stop_worker(worker)
        assert answer == "pong"
        log.seek(0)
        assert "ris.ping" in log.read()
