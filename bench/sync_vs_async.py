"""Sync or async database access: measure one authenticated read both ways.

Usage (from the repository root):

    .venv/bin/python bench/sync_vs_async.py [--db sqlite|postgresql|both] [--duration 10]

For each database it makes a fresh one (a SQLite file in a temporary directory, or a
uniquely named PostgreSQL database that is dropped afterwards), runs `alembic upgrade head`,
and starts two uvicorn processes (one worker each) on 127.0.0.1:

- "service": `app.main:app`, the real service, whose `GET /v1/entries/{id}` is sync
  (`def` route and dependencies in FastAPI's threadpool, sync SQLAlchemy session);
- "variant": `bench.async_variant_app:app`, the same app plus
  `GET /bench/async/entries/{id}`, the same work through SQLAlchemy's asyncio extension.

It registers a client, creates entries with people and emotions, checks that both routes
answer the same bodies and ETags, then drives each target with wrk (keep-alive connections,
a Lua script that cycles over every entry id), all targets interleaved, `--repeats` times,
and reports the median requests/s and latency p50/p99, each also as a ratio to the same
server's `/healthz` (an `async def` route that touches no database: the ceiling) measured in
the same repetition. The table is printed and written to bench/out/sync_vs_async.md.

Only 127.0.0.1 is contacted. Servers, temporary files and the PostgreSQL database are
removed on exit, also on Ctrl-C or SIGTERM.
"""

import argparse
import contextlib
import importlib.util
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

if __package__ in {None, ""}:  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.common import (
    CLK_TCK,
    Sample,
    Server,
    expect,
    http,
    migrate,
    parse_wrk,
    start_server,
    stop_server,
    wait_until_quiet,
)
from bench.common import children_ticks as _children_ticks
from bench.common import lua_cycle_script as lua_script
from bench.common import machine_ticks as _machine_ticks
from bench.common import test_ticks as _test_ticks

ROOT = common.ROOT
OUT = ROOT / "bench" / "out" / "sync_vs_async.md"
HOST = common.HOST
DEFAULT_PG_URL = common.DEFAULT_PG_URL
PASSWORD = "correct horse battery staple"
EMOTIONS = ("hurt", "calm", "anxious", "grateful", "lonely", "supported", "frustrated")
ASYNC_PACKAGES = {"aiosqlite": "aiosqlite", "greenlet": "greenlet"}


# --- prerequisites ------------------------------------------------------------------------


def check_prerequisites() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit(
            "wrk is not installed. Install it with `apt-get install -y wrk` "
            "(Debian/Ubuntu, as root), then run this again."
        )
    missing = [pkg for mod, pkg in ASYNC_PACKAGES.items() if importlib.util.find_spec(mod) is None]
    if missing:
        # SQLAlchemy's asyncio extension needs greenlet; the SQLite async driver is aiosqlite.
        print(f"Installing {', '.join(missing)} into {sys.prefix} (needed for the async variant)")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    return wrk


# --- databases ----------------------------------------------------------------------------


def fresh_database(kind: str, workdir: Path, pg_url: str) -> contextlib.AbstractContextManager[str]:
    """A DATABASE_URL for a new, empty database, removed afterwards (bench.common)."""
    return common.fresh_database(kind, workdir, pg_url, prefix="bench_sync_async")


def service_env(database_url: str, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        ENVIRONMENT="test",
        SECRET_KEY=secret_key,
        RATE_LIMIT_PER_MINUTE="0",  # no per-account limit during a load test
        ACCESS_TOKEN_MINUTES="180",  # one token lasts the whole run
        PYTHONPATH=str(ROOT),
    )
    return env


def seed(server: Server, entries: int) -> tuple[str, list[str]]:
    """A client account with people and entries; returns its access token and entry ids."""
    email = f"bench-{secrets.token_hex(5)}@example.org"
    status, _, body = http(
        server,
        "POST",
        "/v1/auth/register",
        json_body={"email": email, "password": PASSWORD, "display_name": "Bench"},
    )
    expect(status, 201, body, "register")
    status, _, body = http(
        server, "POST", "/v1/auth/token", form={"username": email, "password": PASSWORD}
    )
    expect(status, 200, body, "login")
    token = body["access_token"]
    people = []
    for index in range(6):
        status, _, body = http(
            server,
            "POST",
            "/v1/people",
            json_body={"name": f"Person {index}", "relationship": "friend", "closeness": 2},
            token=token,
        )
        expect(status, 201, body, "create person")
        people.append(body["id"])
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    ids = []
    for index in range(entries):
        named = [people[(index + k) % len(people)] for k in range(1 + index % 3)]
        feelings = [
            {
                "label": EMOTIONS[(index + k) % len(EMOTIONS)],
                "intensity": (index + k) % 11,
                "person_id": named[k % len(named)] if k % 2 == 0 else None,
            }
            for k in range(1 + index % 4)
        ]
        status, _, body = http(
            server,
            "POST",
            "/v1/entries",
            json_body={
                "occurred_at": (start + timedelta(hours=7 * index)).isoformat(),
                "mood": index % 11,
                "event": f"Talked with {len(named)} people about plans for the week ({index}).",
                "event_type": "conversation",
                "tags": ["work", "family"][: index % 3],
                "people": [{"person_id": p, "quality": (index % 5) - 2} for p in named],
                "emotions": feelings,
                "communication": {
                    "what_i_said": "I said I needed more help at home.",
                    "what_they_said": "They said they were tired too.",
                },
            },
            token=token,
        )
        expect(status, 201, body, "create entry")
        ids.append(body["id"])
    return token, ids


def check_same_answers(service: Server, variant: Server, token: str, ids: list[str]) -> None:
    """Both routes must answer the same body and ETag for every entry (and 404 alike)."""
    for entry_id in ids:
        s_status, s_headers, s_body = http(service, "GET", f"/v1/entries/{entry_id}", token=token)
        a_status, a_headers, a_body = http(
            variant, "GET", f"/bench/async/entries/{entry_id}", token=token
        )
        expect(s_status, 200, s_body, "sync read")
        expect(a_status, 200, a_body, "async read")
        if s_body != a_body or s_headers.get("etag") != a_headers.get("etag"):
            raise RuntimeError(f"sync and async answers differ for entry {entry_id}")
    missing = "00000000-0000-4000-8000-000000000000"
    s_status, _, _ = http(service, "GET", f"/v1/entries/{missing}", token=token)
    a_status, _, _ = http(variant, "GET", f"/bench/async/entries/{missing}", token=token)
    expect(s_status, 404, None, "sync read of a missing entry")
    expect(a_status, 404, None, "async read of a missing entry")
    a_status, _, _ = http(variant, "GET", f"/bench/async/entries/{ids[0]}", token="not-a-token")
    expect(a_status, 401, None, "async read with a bad token")


# --- wrk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    server: str  # "service" or "variant"
    path: str  # a fixed path, or a prefix followed by an entry id


def run_wrk(
    wrk: str,
    args: argparse.Namespace,
    url: str,
    token: str,
    script: Path | None,
    seconds: float,
    server_pids: list[int],
    target_pid: int,
) -> Sample:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    busy0, idle0 = _machine_ticks()
    ticks0, wrk0 = _test_ticks(server_pids), _children_ticks()
    result = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    busy1, idle1 = _machine_ticks()
    ticks1, wrk1 = _test_ticks(server_pids), _children_ticks()
    delta = {key: ticks1[key] - ticks0[key] for key in ticks0}
    ours = sum(delta.values()) + wrk1 - wrk0
    sample = parse_wrk(result.stdout)
    capacity = (busy1 - busy0) + (idle1 - idle0)
    sample.other_cpu = max(0.0, (busy1 - busy0 - ours) / capacity) if capacity else 0.0
    per_request_ms = 1000 / CLK_TCK / max(sample.requests, 1)
    sample.server_cpu_ms = delta[target_pid] * per_request_ms
    sample.postgres_cpu_ms = delta["postgres"] * per_request_ms
    return sample


# --- one database -------------------------------------------------------------------------


@dataclass
class DbResult:
    kind: str
    targets: list[Target]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    healthz_of: dict[str, str] = field(default_factory=dict)


def bench_database(kind: str, wrk: str, args: argparse.Namespace) -> DbResult:
    print(f"\n== {kind} ==")
    servers: dict[str, Server] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-sync-async-") as tmp,
        fresh_database(kind, Path(tmp), args.pg_url) as database_url,
    ):
        workdir = Path(tmp)
        env = service_env(database_url, secrets.token_urlsafe(48))
        try:
            migrate(env)
            print("  migrated; starting servers")
            servers["service"] = start_server("service", "app.main:app", env, workdir)
            servers["variant"] = start_server(
                "variant", "bench.async_variant_app:app", env, workdir
            )
            token, ids = seed(servers["service"], args.entries)
            check_same_answers(servers["service"], servers["variant"], token, ids)
            print(f"  seeded {len(ids)} entries; sync and async answers are identical")
            targets = [
                Target("service_healthz", "`/healthz`", "service", "/healthz"),
                Target("service_sync", "sync `GET /v1/entries/{id}`", "service", "/v1/entries/"),
                Target("variant_healthz", "`/healthz`", "variant", "/healthz"),
                Target(
                    "variant_async",
                    "async `GET /bench/async/entries/{id}`",
                    "variant",
                    "/bench/async/entries/",
                ),
                Target(
                    "variant_sync",
                    "sync `GET /v1/entries/{id}` (control)",
                    "variant",
                    "/v1/entries/",
                ),
            ]
            if not args.control:
                targets = [t for t in targets if t.key != "variant_sync"]
            result = DbResult(kind, targets)
            result.healthz_of = {"service": "service_healthz", "variant": "variant_healthz"}
            scripts = {
                t.key: (lua_script(workdir, t.path, ids) if t.path.endswith("/") else None)
                for t in targets
            }

            pids = [server.process.pid for server in servers.values()]

            def measure(target: Target, seconds: float) -> Sample:
                url = servers[target.server].base + ("/" if scripts[target.key] else target.path)
                for attempt in range(1 + args.retries):
                    if not wait_until_quiet(args.quiet_wait) and args.quiet_wait > 0:
                        print(f"  the machine was not idle within {args.quiet_wait:g}s; going on")
                    sample = run_wrk(
                        wrk,
                        args,
                        url,
                        token,
                        scripts[target.key],
                        seconds,
                        pids,
                        servers[target.server].process.pid,
                    )
                    for server in servers.values():
                        if server.process.poll() is not None:
                            raise RuntimeError(f"{server.name} server died:\n{server.log_tail()}")
                    if sample.other_cpu <= args.max_other_cpu or attempt == args.retries:
                        return sample
                    print(
                        f"  other processes used {sample.other_cpu:.0%} of the CPUs during "
                        f"{target.server} {target.label}: measuring again"
                    )
                return sample  # not reached: the loop returns on its last attempt

            if args.warmup > 0:
                for target in targets:
                    measure(target, args.warmup)
                print(f"  warmed up ({args.warmup:g}s per target)")
            for repeat in range(args.repeats):
                # Interleaved, and the order rotates so no target always runs first or last.
                shift = repeat % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    sample = measure(target, args.duration)
                    result.samples.setdefault(target.key, []).append(sample)
                    print(
                        f"  run {repeat + 1}/{args.repeats} {target.server:7} {target.label:40}"
                        f" {sample.rps:9.1f} req/s  p50 {sample.p50_ms:7.2f} ms"
                        f"  p99 {sample.p99_ms:7.2f} ms  errors {sample.errors}"
                        f"  server CPU {sample.server_cpu_ms:.2f} ms/req"
                        f"  other CPU {sample.other_cpu:.0%}"
                    )
            return result
        finally:
            for server in servers.values():
                stop_server(server)


# --- report -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def table(result: DbResult) -> str:
    lines = [
        f"### {result.kind}",
        "",
        "| server | endpoint | req/s (median) | req/s min–max | ÷ /healthz req/s "
        "| p50 ms | p99 ms | p50 ÷ /healthz p50 | p99 ÷ /healthz p99 "
        "| server CPU ms/req | PostgreSQL CPU ms/req | errors | other CPU, max |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for target in result.targets:
        samples = result.samples[target.key]
        ceiling = result.samples[result.healthz_of[target.server]]
        # Ratios are taken per repetition (a target against its own server's /healthz of
        # the same repetition), then the median of the ratios is reported.
        rps_ratio = _median([s.rps / c.rps for s, c in zip(samples, ceiling, strict=True)])
        p50_ratio = _median([s.p50_ms / c.p50_ms for s, c in zip(samples, ceiling, strict=True)])
        p99_ratio = _median([s.p99_ms / c.p99_ms for s, c in zip(samples, ceiling, strict=True)])
        rps = [s.rps for s in samples]
        postgres_cpu = (
            f"{_median([s.postgres_cpu_ms for s in samples]):.2f}"
            if result.kind == "postgresql"
            else "–"
        )
        lines.append(
            f"| {target.server} | {target.label} | {_median(rps):.0f} "
            f"| {min(rps):.0f}–{max(rps):.0f} | {rps_ratio:.2f} "
            f"| {_median([s.p50_ms for s in samples]):.2f} "
            f"| {_median([s.p99_ms for s in samples]):.2f} "
            f"| {p50_ratio:.2f} | {p99_ratio:.2f} "
            f"| {_median([s.server_cpu_ms for s in samples]):.2f} | {postgres_cpu} "
            f"| {sum(s.errors for s in samples)} | {max(s.other_cpu for s in samples):.0%} |"
        )
    sync = _median([s.rps for s in result.samples["service_sync"]])
    async_ = _median([s.rps for s in result.samples["variant_async"]])
    lines += ["", f"async ÷ sync, median req/s: {async_ / sync:.2f}", ""]
    return "\n".join(lines)


def versions() -> str:
    names = [
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "anyio",
        "psycopg",
        "aiosqlite",
        "greenlet",
    ]
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def environment(
    args: argparse.Namespace, wrk: str, databases: list[str], load_at_start: float
) -> str:
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    import sqlite3

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "app", "migrations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    lines = [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}; code: commit "
        f"{commit or '?'}"
        + (f" with {len(changed)} uncommitted files in app/ or migrations/" if changed else ""),
        f"- load average (1 min) at start {load_at_start:.2f}, at end {os.getloadavg()[0]:.2f}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {platform.machine()}, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}",
        f"- {versions()}",
        f"- {wrk_version.splitlines()[0].split(' Copyright')[0] if wrk_version else 'wrk'}: "
        f"`-t{args.threads} -c{args.connections} -d{args.duration:g}s --latency`, "
        f"{args.repeats} interleaved runs per target after a {args.warmup:g}s warm-up; "
        f"wrk and the server share the machine",
        "- CPU ms/req: user + system CPU time of the measured uvicorn process (all its "
        "threads) during a run, and of all PostgreSQL processes, divided by the requests "
        "completed",
        "- other CPU: the share of the machine's CPU time used during a run by processes "
        "other than the two servers, wrk and PostgreSQL (read from /proc); each run starts "
        "after a second with the CPUs at least 80% idle (waiting at most "
        f"{args.quiet_wait:g}s), and a run above {args.max_other_cpu:.0%} is measured again "
        f"(at most {args.retries} times)",
        f"- servers: `uvicorn … --workers 1 --no-access-log --log-level warning` on "
        f"127.0.0.1; {args.entries} entries, requests cycle over all of them",
    ]
    if "postgresql" in databases:
        import psycopg

        with psycopg.connect(
            urllib.parse.urlunsplit(urllib.parse.urlsplit(args.pg_url)._replace(path="/postgres"))
        ) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        lines.append(f"- PostgreSQL {row[0] if row else '?'} on 127.0.0.1")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2, help="seconds per target, discarded")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a local server, user postgres")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each run, wait at most this long for a second with the CPUs 80%% idle",
    )
    parser.add_argument(
        "--max-other-cpu",
        type=float,
        default=0.10,
        help="a run during which other processes used more of the CPUs is measured again",
    )
    parser.add_argument("--retries", type=int, default=1, help="see --max-other-cpu")
    parser.add_argument(
        "--no-control",
        dest="control",
        action="store_false",
        help="skip the sync route measured on the async variant's server",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 120 or not 1 <= args.repeats <= 9:
        parser.error("--duration must be 1–120 s and --repeats 1–9")
    if not 0 <= args.retries <= 3 or not 0 <= args.quiet_wait <= 600:
        parser.error("--retries must be 0–3 and --quiet-wait 0–600 s")

    # SIGTERM runs the finally blocks too (servers stopped, database dropped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wrk = check_prerequisites()
    load_at_start = os.getloadavg()[0]
    if load_at_start > 0.5:
        print(f"Note: load average is {load_at_start:.2f}; other work on the machine skews results")
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [bench_database(kind, wrk, args) for kind in databases]

    report = "\n".join(
        [
            "## Sync vs async database access: one authenticated read",
            "",
            environment(args, wrk, databases, load_at_start),
            "",
            *(table(result) for result in results),
        ]
    )
    print("\n" + report)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(report)
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
