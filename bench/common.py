"""What the benchmarks share: fresh databases, uvicorn servers, wrk, CPU accounting.

Used by bench/run.py (the `make bench` benchmark) and bench/request_costs.py. Everything
talks to 127.0.0.1 only; servers and databases are removed by the context managers and
`stop_server`, also when a run fails.
"""

import contextlib
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"
SERVER_START_TIMEOUT = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --- databases ----------------------------------------------------------------------------


def admin_url(pg_url: str) -> str:
    parsed = urllib.parse.urlsplit(pg_url)
    if parsed.hostname not in LOCAL_HOSTS:
        sys.exit(f"Refusing a PostgreSQL server that is not on this machine: {parsed.hostname}")
    return urllib.parse.urlunsplit(parsed._replace(path="/postgres"))


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path, pg_url: str, prefix: str = "bench") -> Iterator[str]:
    """Yield a DATABASE_URL for a new, empty database; remove it afterwards.

    SQLite: a file in `workdir` (removed with it). PostgreSQL: a uniquely named database on
    the local server, dropped (WITH FORCE) when the block ends, however it ends.
    """
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'{prefix}.db'}"
        return
    import psycopg
    from psycopg import sql

    admin = admin_url(pg_url)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(pg_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        print(f"  dropped database {name}")


def migrate(env: dict[str, str], checkout: Path = ROOT) -> None:
    """`alembic upgrade head` with this environment, from `checkout`'s migrations."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def vacuum_like_autovacuum(database_url: str) -> None:
    """VACUUM ANALYZE a PostgreSQL database, as autovacuum does shortly after many rows
    arrive. This machine's server runs with autovacuum off, which production would not:
    without statistics the planner sorts where it would hash (the summaries took twice as
    long), and without the visibility map an index-only scan visits the table anyway."""
    if not database_url.startswith("postgresql"):
        return  # SQLite gathers its own (PRAGMA optimize on check-in, app.core.db)
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM ANALYZE")


def postgres_version(pg_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url(pg_url), connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    module: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's workers with --workers N > 1 (the
        supervisor's children), else the server process itself."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        try:
            kids = [int(x) for x in children.read_text().split()]
        except OSError:
            kids = []
        # multiprocessing's resource tracker, if any, is not a worker
        workers = [
            k for k in kids if b"uvicorn" in _cmdline(k) or b"multiprocessing" in _cmdline(k)
        ]
        workers = [k for k in workers if b"resource_tracker" not in _cmdline(k)]
        return workers or [pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start_server(name: str, module: str, env: dict[str, str], workers: int) -> Server:
    """`uvicorn <module> --host 127.0.0.1 --port <free> --workers N --no-access-log`, as the
    Dockerfile runs it (no --log-level), its output (the app's JSON log lines) to /dev/null.
    Returns once `/healthz` answers 200 (and, with several workers, all of them are up)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", module, "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stop_server ends it all
    )
    server = Server(name, module, port, process)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} server exited early (code {process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(f"{server.base}/healthz", timeout=2).status_code
                if status == 200 and (workers == 1 or _workers_ready(server, workers)):
                    return server
            time.sleep(0.2)
        raise RuntimeError(f"{name} server did not answer /healthz in time")
    except BaseException:
        stop_server(server)
        raise


def _workers_ready(server: Server, workers: int) -> bool:
    """All workers are serving once each has answered (they share one listening socket,
    so a burst of fresh connections reaches all of them)."""
    pids = server.worker_pids()
    if len(pids) < workers:
        return False
    # Each worker has imported the app by the time it answers; a CPU-time check suffices:
    # a worker still importing is busy, a ready one is idle. Wait for a quiet 0.3 s.
    before = {pid: _cpu_ticks(pid) for pid in pids}
    time.sleep(0.3)
    return all(_cpu_ticks(pid) - before[pid] <= 2 for pid in pids)


def _cpu_ticks(pid: int) -> int:
    try:
        return _process_ticks(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0


def stop_server(server: Server) -> None:
    """SIGTERM (uvicorn shuts its workers down), then SIGKILL to the server's own process
    group if anything is left after 15 s."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # leftover workers of this server only


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- wrk ----------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    other_cpu: float = 0.0  # share of the machine's CPU used by processes not in the test
    server_cpu_ms: float = 0.0  # CPU time of the measured server process per request
    postgres_cpu_ms: float = 0.0  # CPU time of all PostgreSQL processes per request
    extra: dict[str, float] = field(default_factory=dict)


def parse_wrk(output: str) -> Sample:
    """Requests/s, p50 and p99 (ms, from `--latency`), requests, and errors (non-2xx/3xx
    responses plus socket errors) from wrk's report."""
    latencies = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(output)}
    rps = _RPS.search(output)
    requests = _REQUESTS.search(output)
    if rps is None or requests is None or set(latencies) != {50, 99}:
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    errors = 0
    if (match := _NON_2XX.search(output)) is not None:
        errors += int(match.group(1))
    if (match := _SOCKET.search(output)) is not None:
        errors += sum(int(n) for n in match.groups())
    return Sample(float(rps.group(1)), latencies[50], latencies[99], int(requests.group(1)), errors)


def lua_cycle_script(workdir: Path, prefix: str, ids: list[str]) -> Path:
    """A wrk script that GETs `prefix .. id`, cycling over every id (each wrk thread
    starts elsewhere); headers given with -H are sent with each request."""
    path = workdir / f"cycle_{prefix.strip('/').replace('/', '_')}.lua"
    quoted = ", ".join(f'"{entry_id}"' for entry_id in ids)
    path.write_text(
        f"local ids = {{{quoted}}}\n"
        f'local prefix = "{prefix}"\n'
        "local i = 0\n"
        "function setup(thread) thread:set('offset', math.random(#ids)) end\n"
        "function init(args) i = tonumber(offset) or 0 end\n"
        "function request()\n"
        "  i = i % #ids + 1\n"
        '  return wrk.format("GET", prefix .. ids[i])\n'
        "end\n"
    )
    return path


# --- CPU accounting: other work on the machine skews a load test -----------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, idle) clock ticks of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, idle


def _process_ticks(stat: str) -> int:
    """utime + stime + cutime + cstime from a /proc/PID/stat line."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])


def test_ticks(pids: list[int]) -> dict[int | str, int]:
    """CPU ticks of each given process, and of all PostgreSQL processes together, the reaped
    ones included (they are in the postmaster's cutime)."""
    ticks: dict[int | str, int] = dict.fromkeys(pids, 0)
    ticks["postgres"] = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(entry.name) in pids:
            ticks[int(entry.name)] += _process_ticks(stat)
        elif stat.split(" (", 1)[1].startswith("postgres)"):
            ticks["postgres"] += _process_ticks(stat)
    return ticks


def postgres_backend_seconds(database_url: str) -> Callable[[], float]:
    """CPU seconds used so far by the PostgreSQL backends of this database (the server is
    on this machine: read from /proc), without the backend that asks."""
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")

    def seconds() -> float:
        with psycopg.connect(dsn) as connection:
            pids = [
                pid
                for (pid,) in connection.execute(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        ticks = test_ticks(pids)
        return sum(ticks[pid] for pid in pids) / CLK_TCK

    return seconds


def children_ticks() -> float:
    """CPU ticks of this process's reaped children (e.g. finished wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * CLK_TCK


# --- reporting ----------------------------------------------------------------------------

VERSION_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "sqlmodel",
    "pydantic", "anyio", "psycopg", "orjson",
)  # fmt: skip


def versions(names: tuple[str, ...] = VERSION_PACKAGES) -> str:
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)
