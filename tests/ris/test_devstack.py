"""The embedded dev stack's helpers, and one real start/stop of both servers in a scratch var/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from ris import devstack


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((devstack.HOST, 0))
    sock.listen()
    return sock


# --- ports -------------------------------------------------------------------------------------


def test_a_port_someone_listens_on_is_not_free():
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        assert not devstack.port_is_free(port)
    assert devstack.port_is_free(port)


def test_find_free_port_gives_a_bindable_port_outside_avoid():
    first = devstack.find_free_port()
    port = devstack.find_free_port(avoid=frozenset({first}))
    assert port != first
    with socket.socket() as sock:
        sock.bind((devstack.HOST, port))


def test_choose_port_keeps_the_remembered_port_while_it_is_free():
    remembered = devstack.find_free_port()
    assert devstack.choose_port(remembered) == remembered


def test_choose_port_moves_when_the_remembered_port_is_taken():
    with listening_socket() as sock:
        taken = sock.getsockname()[1]
        port = devstack.choose_port(taken)
        assert port != taken
        assert devstack.port_is_free(port)


def test_choose_port_never_returns_an_avoided_port():
    remembered = devstack.find_free_port()
    assert devstack.choose_port(remembered, avoid=frozenset({remembered})) != remembered
    assert devstack.choose_port(None) > 0


# --- env file and state ------------------------------------------------------------------------


def test_env_file_is_key_value_lines_that_read_back(tmp_path):
    env = devstack.stack_env(5432, 6379)
    path = tmp_path / "devstack.env"
    devstack.write_env_file(path, env)
    assert path.read_text() == (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/ris\nREDIS_URL=redis://127.0.0.1:6379/0\n"
    )
    assert devstack.read_env_file(path) == env
    assert [p.name for p in tmp_path.iterdir()] == ["devstack.env"]  # no temporary left over


def test_env_file_rejects_what_would_break_its_lines(tmp_path):
    with pytest.raises(ValueError):
        devstack.write_env_file(tmp_path / "x.env", {"A": "1\nB=2"})
    with pytest.raises(ValueError):
        devstack.write_env_file(tmp_path / "x.env", {"A=B": "1"})


def test_external_servers_are_used_only_when_both_urls_are_set():
    both = {"DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r/0", "HOME": "/"}
    assert devstack.external_env(both) == {
        "DATABASE_URL": "postgres://db/x",
        "REDIS_URL": "redis://r/0",
    }
    assert devstack.external_env({"DATABASE_URL": "postgres://db/x"}) is None
    assert devstack.external_env({"REDIS_URL": "redis://r/0", "DATABASE_URL": ""}) is None


def test_state_survives_a_round_trip_and_a_broken_file_reads_as_empty(tmp_path):
    path = tmp_path / "devstack.json"
    assert devstack.load_state(path) == {}
    devstack.save_state(path, {"redis": {"port": 1234}})
    assert devstack.load_state(path) == {"redis": {"port": 1234}}
    path.write_text("{not json")
    assert devstack.load_state(path) == {}


def test_pytest_collecting_nothing_is_a_failure(capsys):
    assert devstack.pytest_exit_code(0) == 0
    assert devstack.pytest_exit_code(1) == 1
    assert devstack.pytest_exit_code(5) != 0
    assert "no tests" in capsys.readouterr().err


# --- processes we may signal -------------------------------------------------------------------


def test_only_a_live_redis_server_on_our_port_counts_as_ours():
    assert not devstack.is_our_redis(os.getpid(), 6379)  # a python process
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert devstack.pid_alive(sleeper.pid)
        assert not devstack.is_our_redis(sleeper.pid, 6379)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not devstack.pid_alive(sleeper.pid)


def test_stopping_redis_never_signals_a_process_it_did_not_start(tmp_path):
    paths = devstack.Paths(tmp_path)
    paths.make_dirs()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        paths.redis_pid_file.write_text(f"{stranger.pid}\n")  # a stale or forged pid file
        devstack.Redis(paths).stop(6379)
        assert stranger.poll() is None
        assert not paths.redis_pid_file.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_a_server_left_by_a_dead_test_run_is_adopted_one_left_by_up_is_not():
    claim = devstack.Stack._claim
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert claim({"owner": "test", "owner_pid": dead.pid}, "test")
    assert claim({}, "exec")
    assert not claim({"owner": "up", "owner_pid": dead.pid}, "test")
    assert claim({"owner": "run", "owner_pid": os.getppid()}, "up")  # `up` takes over
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not claim({"owner": "run", "owner_pid": live.pid}, "test")
    finally:
        live.kill()
        live.wait()


def fake_redis(reply: bytes) -> int:
    server = listening_socket()

    def answer() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                conn.recv(64)
                conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_redis_ping_needs_a_pong():
    assert devstack.redis_ping(fake_redis(b"+PONG\r\n"))
    assert not devstack.redis_ping(fake_redis(b"-LOADING Redis is loading the dataset\r\n"))
    assert not devstack.redis_ping(devstack.find_free_port())


def test_directories_closed_to_another_user_are_found(tmp_path):
    closed = tmp_path / "closed"
    inner = closed / "inner"
    inner.mkdir(parents=True)
    closed.chmod(0o700)
    inner.chmod(0o755)
    stranger = (os.getuid() + 12345, os.getgid() + 12345)
    try:
        assert closed in devstack.dirs_not_searchable(inner, *stranger)
        assert inner not in devstack.dirs_not_searchable(inner, *stranger)
        assert closed not in devstack.dirs_not_searchable(inner, os.getuid(), os.getgid())
        closed.chmod(0o701)
        assert closed not in devstack.dirs_not_searchable(inner, *stranger)
    finally:
        closed.chmod(0o755)


# --- the real servers --------------------------------------------------------------------------


@pytest.fixture
def scratch_stack():
    """A stack of its own under var/ (whose parents the cluster owner can already reach)."""
    var = devstack.PROJECT_ROOT / "var"
    var.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="test-stack-", dir=var))
    root.chmod(0o755)
    stack = devstack.Stack(devstack.Paths(root))
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(root)


def test_up_starts_both_servers_and_release_stops_them(scratch_stack):
    import psycopg
    import redis

    started: list[str] = []
    env = scratch_stack.up("test", started)
    assert started == ["postgres", "redis"]
    assert devstack.read_env_file(scratch_stack.paths.env_file) == env
    pg_port = scratch_stack.postgres.running_port()
    redis_pid = scratch_stack.redis.recorded_pid()
    redis_port = int(env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    assert env["DATABASE_URL"] == f"postgres://postgres@127.0.0.1:{pg_port}/ris"

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        for extension in ("pg_trgm", "unaccent", "btree_gist"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        assert conn.execute("SELECT unaccent('Peñíscola')").fetchone() == ("Peniscola",)
        assert conn.execute("SHOW max_connections").fetchone() == ("200",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    redis.Redis.from_url(env["REDIS_URL"]).rpush("queue", "task-1")

    scratch_stack.release(started)
    assert scratch_stack.status() == {"postgres": None, "redis": None}
    assert not devstack.pid_alive(redis_pid)
    assert devstack.port_is_free(pg_port) and devstack.port_is_free(redis_port)

    again: list[str] = []
    assert scratch_stack.up("test", again) == env  # same ports, same data
    assert redis.Redis.from_url(env["REDIS_URL"]).lrange("queue", 0, -1) == [b"task-1"]
    scratch_stack.release(again)
    assert scratch_stack.status() == {"postgres": None, "redis": None}
