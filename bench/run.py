"""The service's benchmark: `make bench` (or `.venv/bin/python bench/run.py`).

For SQLite and for PostgreSQL (a uniquely named database on the local server, dropped
afterwards) it:

1. runs `alembic upgrade head` and starts the service as production runs it
   (`uvicorn app.main:app --workers 2 --no-access-log`, ENVIRONMENT=production, a random
   64-character SECRET_KEY, the rate limiter on with a limit no load test reaches, output
   to /dev/null), and next to it
   the bare FastAPI app (bench/bare_app.py) on the same uvicorn with the same flags;
2. seeds through `POST /v1/import`: a heavy client (40 people, 5,000 entries) and, after
   the small-database measurements, 24 ordinary clients (6–15 people, 100–300 entries);
3. measures sequential latency (httpx, one connection, warm-up then up to 50 requests) of
   the heavy client's summaries, entry, list and sync while the database holds only that
   client ("small");
4. drives load with wrk from a separate process (`-t2 -c16 -d5s --latency`, 3 repetitions
   interleaved, after a 1 s warm-up each): the bare app's /healthz, the service's
   /healthz, GET /v1/entries/{id} (cycling over the heavy client's 5,000 ids), the
   50-entry list, POST /v1/entries (cycling over the 24 clients' tokens and people), the
   two summaries and `GET /v1/sync?since=<anchor 20 changes back>`; medians and ratios to
   the same repetition's ceilings;
5. writes 500,000 entries of 1,000 other owners with plain SQL, and measures step 3 again
   ("large");
6. imports a 20,000-entry client, restarts the service (fresh workers, so the import's
   heap does not hide the export's), downloads `GET /v1/export?format=json` three times
   while sampling the workers' RSS from /proc every 5 ms;
7. profiles one worker with py-spy while wrk drives GET /v1/entries/{id} and the list.

Everything is printed, written to bench/RESULTS.md (with bench/ANALYSIS.md, the
hand-written reading of the profiles, appended) and, raw, to bench/out/results.json and
bench/out/profile-*.txt. Only 127.0.0.1 is contacted; servers are stopped and the
PostgreSQL database dropped in finally blocks, also on Ctrl-C or SIGTERM.
"""

import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a script: make `bench` and `app` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import common, seed
from bench.common import Sample, Server

ROOT = common.ROOT
OUT_DIR = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
ANALYSIS = ROOT / "bench" / "ANALYSIS.md"

HEAVY_PEOPLE, HEAVY_ENTRIES, HEAVY_DAYS = 40, 5000, 1100
OTHER_CLIENTS = 24
EXPORT_ENTRIES = 20_000
BULK_OWNERS, BULK_PER_OWNER = 1000, 500
SYNC_CHANGES_BEHIND = 20

# Sequential latency: key and path ("{id}" and "<anchor>" are filled in per request).
SEQUENTIAL = (
    ("mood_by_person", "/v1/summaries/mood-by-person"),
    ("mood_timeline", "/v1/summaries/mood-timeline?bucket=week"),
    ("focus_areas", "/v1/summaries/focus-areas"),
    ("between_sessions", "/v1/summaries/between-sessions"),
    ("entry_get", "/v1/entries/{id}"),
    ("entries_list", "/v1/entries?limit=50"),
    ("sync", "/v1/sync?since=<anchor>"),
    ("brief_html", "/v1/reports/session-brief"),
    ("brief_pdf", "/v1/reports/session-brief?format=pdf"),
)
SEQ_LABELS = {key: f"GET {path}" for key, path in SEQUENTIAL}


# --- prerequisites ------------------------------------------------------------------------


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is not None:
        return wrk
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (as root), then run this again")
    print("Installing wrk with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=False, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, timeout=600)
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("apt-get did not install wrk")
    return wrk


def ensure_py_spy() -> str | None:
    """py-spy next to this Python (pip-installed if missing), or None: no profiles."""
    candidate = Path(sys.executable).parent / "py-spy"
    found = str(candidate) if candidate.exists() else shutil.which("py-spy")
    if found:
        return found
    print("Installing py-spy (for the profiles)")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=False, timeout=300
    )
    if result.returncode == 0 and candidate.exists():
        return str(candidate)
    print("  py-spy could not be installed: the profiles are skipped")
    return None


# --- the servers ----------------------------------------------------------------------------


RATE_LIMIT_NEVER_REACHED = 10**9


def production_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("ENCRYPTION_KEYS", "CORS_ORIGINS"):
        env.pop(name, None)  # the defaults production would run with
    env.update(
        DATABASE_URL=database_url,
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        # On, as in production, so its cost is measured; a limit the load never reaches.
        RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT_NEVER_REACHED),
        ACCESS_TOKEN_MINUTES="60",  # one login lasts the whole run (default 15)
        # Summaries computed every time: the goals are for computing them. An answer kept
        # until the diary changes costs one query (bench/request_costs.py measures both).
        SUMMARY_ANSWERS_MB="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def seed_client(server: Server, label: str, **shape: Any) -> seed.Client:
    with httpx.Client(base_url=server.base, timeout=600) as client:  # imports take a while
        return seed.seed_client(client, label, **shape)


# --- wrk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    server: str  # "bare" or "service"
    path: str
    script: Path | None = None
    token: str | None = None


def create_script(workdir: Path, writers: list[seed.Client]) -> Path:
    """POST /v1/entries with seed.CREATE_BODY, cycling over the writers' tokens and people."""
    rows = ",\n".join(
        '  {token = "%s", people = {%s}}'  # noqa: UP031 - Lua, not Python
        % (w.token, ", ".join(f'"{p}"' for p in w.person_ids))
        for w in writers
    )
    path = workdir / "create_entry.lua"
    path.write_text(
        f"local writers = {{\n{rows}\n}}\n"
        "local n = 0\n"
        "function setup(thread) thread:set('offset', math.random(100000)) end\n"
        "function init(args) n = tonumber(offset) or 0 end\n"
        "function request()\n"
        "  n = n + 1\n"
        "  local w = writers[n % #writers + 1]\n"
        "  local a = w.people[n % #w.people + 1]\n"
        "  local b = w.people[(n + 1) % #w.people + 1]\n"
        f"  local body = string.format('{seed.CREATE_BODY}',\n"
        "    n % 12 + 1, n % 28 + 1, n % 24, n % 60, 2 + n % 9, n, a, n % 5 - 2, b,\n"
        "    1 + n % 10, a)\n"
        '  return wrk.format("POST", "/v1/entries", {["Authorization"] = "Bearer " .. w.token,\n'
        '    ["Content-Type"] = "application/json"}, body)\n'
        "end\n"
    )
    return path


def run_wrk(
    wrk: str,
    args: argparse.Namespace,
    base: str,
    target: Target,
    seconds: float,
    measured: list[int],
    all_pids: list[int],
) -> Sample:
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "10s", "--latency"]
    if target.token:
        command += ["-H", f"Authorization: Bearer {target.token}"]
    if target.script is not None:
        command += ["-s", str(target.script)]
    command.append(base + (target.path if target.script is None else "/"))
    busy0, idle0 = common.machine_ticks()
    ticks0, wrk0 = common.test_ticks(all_pids), common.children_ticks()
    result = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    busy1, idle1 = common.machine_ticks()
    ticks1, wrk1 = common.test_ticks(all_pids), common.children_ticks()
    delta = {key: ticks1[key] - ticks0[key] for key in ticks0}
    ours = sum(delta.values()) + wrk1 - wrk0
    sample = common.parse_wrk(result.stdout)
    capacity = (busy1 - busy0) + (idle1 - idle0)
    sample.other_cpu = max(0.0, (busy1 - busy0 - ours) / capacity) if capacity else 0.0
    per_request_ms = 1000 / common.CLK_TCK / max(sample.requests, 1)
    sample.server_cpu_ms = sum(delta[pid] for pid in measured) * per_request_ms
    sample.postgres_cpu_ms = delta["postgres"] * per_request_ms
    return sample


# --- results ------------------------------------------------------------------------------


@dataclass
class DbResult:
    kind: str
    seconds: dict[str, float] = field(default_factory=dict)
    targets: list[dict[str, str]] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    small: dict[str, dict[str, float]] = field(default_factory=dict)
    large: dict[str, dict[str, float]] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seeded: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def optional(result: DbResult, what: str) -> Iterator[None]:
    """A failure here is reported, not fatal: the measurements so far are kept."""
    try:
        yield
    except Exception as exc:
        result.failures.append(f"{what}: {type(exc).__name__}: {exc}")
        print(f"  [{result.kind}] {what} failed: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def phase(result: DbResult, name: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"  [{result.kind}] {name} …", flush=True)
    yield
    result.seconds[name] = round(time.monotonic() - started, 1)
    print(f"  [{result.kind}] {name}: {result.seconds[name]:.1f} s", flush=True)


# --- sequential latency ----------------------------------------------------------------------


def sequential(
    server: Server, token: str, paths: dict[str, Callable[[int], str]], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Median (and p90) latency of one request at a time on one keep-alive connection."""
    out: dict[str, dict[str, float]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        for key, path_of in paths.items():
            for n in range(args.seq_warmup):
                client.get(path_of(n)).raise_for_status()
            times: list[float] = []
            deadline = time.monotonic() + args.seq_max_seconds
            for n in range(args.seq_requests):
                started = time.perf_counter()
                response = client.get(path_of(n))
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                if time.monotonic() > deadline and len(times) >= 20:
                    break
            times.sort()
            out[key] = {
                "median_ms": statistics.median(times),
                "p90_ms": times[int(0.9 * (len(times) - 1))],
                "n": len(times),
            }
            print(f"    {key:18} median {out[key]['median_ms']:8.2f} ms  (n={len(times)})")
    return out


def sequential_paths(heavy: seed.Client, anchor: str) -> dict[str, Callable[[int], str]]:
    ids = heavy.entry_ids
    paths: dict[str, Callable[[int], str]] = {}
    for key, path in SEQUENTIAL:
        if key == "entry_get":
            paths[key] = lambda n: f"/v1/entries/{ids[(n * 7919) % len(ids)]}"
        else:
            path = path.replace("<anchor>", anchor)
            paths[key] = lambda _n, p=path: p  # type: ignore[misc]
    return paths


# --- export and memory -----------------------------------------------------------------------


class RssSampler:
    """Samples the workers' RSS every `interval` s in a thread; keeps each one's peak."""

    def __init__(self, pids: list[int], interval: float = 0.005) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = {pid: common.rss_kib(pid) for pid in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], common.rss_kib(pid))
            time.sleep(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def measure_export(
    server: Server, token: str, warm_token: str, expected: int, runs: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    pids = server.worker_pids()
    with httpx.Client(base_url=server.base, timeout=600) as client:
        # Warm both workers' code paths on a small account (fresh processes otherwise
        # count their first imports as the export's memory).
        for _ in range(2 * len(pids)):
            client.get(
                "/v1/export?format=json", headers={"Authorization": f"Bearer {warm_token}"}
            ).raise_for_status()
        time.sleep(0.5)
        baseline = {pid: common.rss_kib(pid) for pid in pids}
        ticks_before = {pid: common.test_ticks([pid])[pid] for pid in pids}
        runs_out = []
        for _ in range(runs):
            with RssSampler(pids) as sampler:
                started = time.perf_counter()
                size = 0
                chunks = []
                with client.stream("GET", "/v1/export?format=json", headers=headers) as response:
                    response.raise_for_status()
                    first_byte = time.perf_counter() - started
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        chunks.append(chunk)
                elapsed = time.perf_counter() - started
            document = json.loads(b"".join(chunks))
            if len(document["entries"]) != expected:
                raise RuntimeError(
                    f"export held {len(document['entries'])} entries, not {expected}"
                )
            del document, chunks
            runs_out.append(
                {
                    "seconds": elapsed,
                    "first_byte_s": first_byte,
                    "bytes": size,
                    "entries_per_s": expected / elapsed,
                    "peak_kib": dict(sampler.peak),
                }
            )
            print(
                f"    export: {expected} entries, {size / 1e6:.1f} MB in {elapsed:.2f} s "
                f"= {expected / elapsed:,.0f} entries/s; peak RSS growth "
                f"{max(sampler.peak[p] - baseline[p] for p in pids) / 1024:.1f} MiB"
            )
        ticks_after = {pid: common.test_ticks([pid])[pid] for pid in pids}
    busiest = max(pids, key=lambda pid: ticks_after[pid] - ticks_before[pid])
    growth = [max(run["peak_kib"][pid] - baseline[pid] for pid in pids) for run in runs_out]
    return {
        "entries": expected,
        "runs": runs_out,
        "median_seconds": statistics.median(r["seconds"] for r in runs_out),
        "median_entries_per_s": statistics.median(r["entries_per_s"] for r in runs_out),
        "bytes": runs_out[0]["bytes"],
        "baseline_kib": baseline,
        "first_run_growth_kib": growth[0],
        "max_growth_kib": max(growth),
        "busiest_worker": busiest,
        "busiest_baseline_kib": baseline[busiest],
        "busiest_peak_kib": max(run["peak_kib"][busiest] for run in runs_out),
    }


# --- profiles ---------------------------------------------------------------------------------

CATEGORIES = (
    ("app/core/observability", "app: access log + metrics"),
    ("app/core/field_encryption", "app: field decryption"),
    ("app/core/crypto", "app: field decryption"),
    ("app/", "app: other"),
    ("sqlmodel/", "SQLModel"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("sqlalchemy/", "SQLAlchemy core/engine"),
    ("psycopg", "psycopg (driver)"),
    ("pydantic", "pydantic"),
    ("fastapi/", "FastAPI (routing, dependencies, serialisation)"),
    ("starlette/", "Starlette"),
    ("anyio/", "anyio (threadpool hand-off)"),
    ("jwt/", "PyJWT"),
    ("cryptography/", "cryptography (AES-GCM)"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("prometheus_client/", "prometheus_client"),
    ("uvicorn/", "uvicorn"),
    ("threading.py", "threads"),
    ("asyncio/", "asyncio"),
)


def _frame_file(frame: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:line)"
    inside = frame.rsplit(" (", 1)[-1].rstrip(")")
    return inside.rsplit(":", 1)[0]


def _frame_name(frame: str) -> str:
    name, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def _category(file: str) -> str:
    for needle, label in CATEGORIES:
        if needle in file and (needle != "app/" or "/site-packages/" not in file):
            return label
    return "other (stdlib, C calls attributed to their caller)"


INFRASTRUCTURE = (
    "threading.py", "multiprocessing/", "uvicorn/_subprocess", "uvicorn/supervisors",
    "uvicorn/server.py", "asyncio/", "concurrent/", "queue.py", "<string>", "anyio/",
    "uvicorn/protocols", "uvicorn/middleware", "starlette/middleware", "fastapi/middleware",
    "starlette/_exception_handler", "starlette/routing", "fastapi/_body_limit",
    "fastapi/telemetry", "fastapi/applications", "starlette/applications",
    "starlette/concurrency",
)  # fmt: skip


# Stages of a request: a sample counts for a stage when any frame of its stack matches
# (inclusive; stages overlap, e.g. field decryption happens inside loading the rows).
STAGES = (
    ("event-loop thread (uvicorn, ASGI middleware, routing, serialisation)", "!WorkerThread.run"),
    ("threadpool threads (sync dependencies, route, session close)", "WorkerThread.run"),
    ("threadpool hand-off (run_sync_in_worker_thread, wake-ups)", "run_sync_in_worker_thread|"
     "Condition.notify|WorkerThread.run (anyio/_backends/_asyncio.py)$"),
    ("FastAPI dependency solving", "solve_dependencies"),
    ("routing (matching the path)", "_match|effective_candidates"),
    ("request id + security headers (uuid4, MutableHeaders)", "uuid4|MutableHeaders"),
    ("unit of work: Session() per request + session close", "Session.__init__|Session.close"),
    ("authentication (JWT decode + caller/login-session query)",
     "caller_of|authenticated_user"),
    ("… of which JWT decode (PyJWT)", "decode_access_token"),
    ("loading the entry / page rows", "OwnerScope.get |keyset_page|by_ids|json_by_id|page_json"),
    ("building EntryPublic (decryption, validation)", "public "),
    ("entry JSON from the database: free text decrypted and spliced", "splice"),
    ("model_validate / model_dump (pydantic, SQLModel)", "model_validate|model_dump"),
    ("SQL compilation and cache-key generation", "_compile_w_cache|_generate_cache_key"),
    ("DBAPI execute (driver call)", "do_execute"),
    ("result rows: UUID / datetime conversion", "Uuid.result_processor|process_result_value"),
    ("ORM instance loading (incl. decryption hook)", "_instance_processor"),
    ("field decryption (_on_load / decrypt_value / column decryptors)",
     "_on_load|decrypt_value|plain_text|plain_json"),
    ("response validation + serialisation (FastAPI)", "serialize_response"),
    ("access log + metrics (AccessLogMiddleware's own work)", "logging/|prometheus_client"),
    ("export: JSON document writer", "json_document"),
    ("export: orjson dumps", "_dumps"),
)  # fmt: skip


def _matches(frames: list[str], pattern: str) -> bool:
    negate = pattern.startswith("!")
    hit = False
    for alternative in pattern.lstrip("!").split("|"):
        if alternative.endswith("$"):  # the innermost frame only
            hit = hit or _frame_name(frames[-1]).startswith(alternative[:-1].split(" (")[0])
        else:
            hit = hit or any(alternative in frame for frame in frames)
    return hit != negate


def summarise_profile(raw: str) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the share of samples by the leaf frame's package,
    by stage of the request, the leaf functions (self time) and the functions with the
    largest inclusive share (pass-through frames of the server, the middleware chain and
    the threadpool left out)."""
    stacks: list[tuple[list[str], int]] = []
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if frames and count_text.isdigit():
            stacks.append((frames, int(count_text)))
    total = sum(count for _, count in stacks)
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    for frames, count in stacks:
        by_category[_category(_frame_file(frames[-1]))] += count
        self_time[_frame_name(frames[-1])] += count
        for name in {
            _frame_name(f)
            for f in frames
            if not any(skip in _frame_file(f) for skip in INFRASTRUCTURE)
            and not f.split(" (", 1)[0].endswith("__call__")
        }:
            inclusive[name] += count
        for label, pattern in STAGES:
            if _matches(frames, pattern):
                stages[label] += count

    def share(count: int) -> float:
        return round(100 * count / total, 1) if total else 0.0

    return {
        "samples": total,
        "categories": [(name, share(count)) for name, count in by_category.most_common()],
        "stages": [(label, share(stages[label])) for label, _ in STAGES if stages[label]],
        "self": [(name, share(count)) for name, count in self_time.most_common(20)],
        "inclusive": [(name, share(count)) for name, count in inclusive.most_common(40)],
    }


@contextlib.contextmanager
def py_spy_recording(py_spy: str, pid: int, seconds: int, out: Path) -> Iterator[dict[str, Any]]:
    """`py-spy record --gil --nonblocking` of one process for `seconds` while the block
    runs: only the thread holding the GIL is sampled, i.e. where the worker's Python CPU
    time goes (what limits a worker's throughput). Non-blocking: with SQLite, pausing the
    process at each sample (the default) attributed nearly every sample to the event-loop
    thread, which in-process timings of the stages contradicted. Yields a dict that gets the
    summary afterwards."""
    out.parent.mkdir(parents=True, exist_ok=True)  # bench/out/ is not in a fresh clone
    spy = subprocess.Popen(
        [
            *(py_spy, "record", "--pid", str(pid), "--rate", "250", "--gil", "--nonblocking"),
            *("--duration", str(seconds), "--format", "raw", "--output", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    holder: dict[str, Any] = {}
    try:
        time.sleep(0.5)  # attached
        yield holder
        _, err = spy.communicate(timeout=seconds + 60)
    finally:
        if spy.poll() is None:
            spy.terminate()
            spy.wait(timeout=10)
    if spy.returncode != 0 or not out.exists():
        print(f"    py-spy failed ({spy.returncode}): {err.strip()[-500:]}")
        return
    holder.update(summarise_profile(out.read_text()))
    holder["file"] = str(out.relative_to(ROOT))


def profile_endpoint(
    py_spy: str,
    wrk: str,
    args: argparse.Namespace,
    server: Server,
    target: Target,
    label: str,
    kind: str,
) -> dict[str, Any] | None:
    """One worker recorded with py-spy while wrk drives `target` at both workers."""
    pid = server.worker_pids()[0]
    seconds = args.profile_seconds
    out = OUT_DIR / f"profile-{kind}-{label}.txt"
    with py_spy_recording(py_spy, pid, seconds, out) as summary:
        sample = run_wrk(wrk, args, server.base, target, seconds + 1, [pid], [pid])
    if "samples" not in summary:
        return None
    summary["rps_while_profiled"] = sample.rps
    summary["worker_cpu_ms_per_request"] = sample.server_cpu_ms * 2  # one of two workers
    print(f"    profile {label}: {summary['samples']} samples → {summary['file']}")
    for name, pct in summary["stages"][:8]:
        print(f"      {pct:5.1f}%  {name}")
    return summary


def profile_export(
    py_spy: str, server: Server, token: str, label: str, kind: str
) -> dict[str, Any] | None:
    """Both workers recorded while one more export (not counted above) downloads; the
    one that served it is kept."""
    pids = server.worker_pids()
    recordings = []
    with contextlib.ExitStack() as stack:
        for pid in pids:
            out = OUT_DIR / f"profile-{kind}-{label}-{pid}.txt"
            recordings.append((out, stack.enter_context(py_spy_recording(py_spy, pid, 6, out))))
        with httpx.Client(base_url=server.base, timeout=600) as client:
            started = time.perf_counter()
            response = client.get(
                "/v1/export?format=json", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            elapsed = time.perf_counter() - started
    done = [(out, summary) for out, summary in recordings if "samples" in summary]
    if not done:
        return None
    out, summary = max(done, key=lambda item: item[1]["samples"])
    final = OUT_DIR / f"profile-{kind}-{label}.txt"
    out.replace(final)
    for other, _ in done:
        other.unlink(missing_ok=True)
    summary["file"] = str(final.relative_to(ROOT))
    summary["export_seconds_while_profiled"] = elapsed
    print(f"    profile {label}: {summary['samples']} samples → {summary['file']}")
    return summary


# --- one database ------------------------------------------------------------------------


def change_seq(database_url: str, user_id: str) -> int:
    """The account's change sequence, read straight from the database."""
    if database_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(database_url.split("///", 1)[1])) as conn:
            row = conn.execute(
                "SELECT change_seq FROM users WHERE id = ?", (user_id.replace("-", ""),)
            ).fetchone()
    else:
        import psycopg

        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT change_seq FROM users WHERE id = %s", (user_id,)).fetchone()
    return int(row[0])


def bench_database(kind: str, wrk: str, py_spy: str | None, args: argparse.Namespace) -> DbResult:
    from app.sync.service import encode_anchor  # the app's own anchor format

    print(f"\n== {kind} ==", flush=True)
    result = DbResult(kind)
    servers: dict[str, Server] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-run-") as tmp,
        common.fresh_database(kind, Path(tmp), args.pg_url, prefix="bench_run") as database_url,
    ):
        workdir = Path(tmp)
        env = production_env(database_url)
        workers = args.workers
        try:
            with phase(result, "migrate and start"):
                common.migrate(env)
                servers["bare"] = common.start_server("bare", "bench.bare_app:app", env, workers)
                servers["service"] = common.start_server("service", "app.main:app", env, workers)

            with phase(result, "seed heavy client (import)"):
                heavy = seed_client(
                    servers["service"],
                    "heavy",
                    people=HEAVY_PEOPLE,
                    entries=args.heavy_entries,
                    days=HEAVY_DAYS,
                    seed=1,
                )
                common.vacuum_like_autovacuum(database_url)
            anchor = encode_anchor(
                max(0, change_seq(database_url, heavy.user_id) - SYNC_CHANGES_BEHIND)
            )
            paths = sequential_paths(heavy, anchor)

            with phase(result, "sequential latency, small database"):
                result.small = sequential(servers["service"], heavy.token, paths, args)

            with phase(result, f"seed {args.clients} other clients (import)"):
                rng = random.Random(2)
                shapes = [(rng.randint(6, 15), rng.randint(100, 300)) for _ in range(args.clients)]
                with ThreadPoolExecutor(max_workers=4) as pool:
                    others = list(
                        pool.map(
                            lambda item: seed_client(
                                servers["service"],
                                f"client{item[0]}",
                                people=item[1][0],
                                entries=item[1][1],
                                days=240,
                                seed=100 + item[0],
                                timezone=seed.TIMEZONES[item[0] % len(seed.TIMEZONES)],
                            ),
                            enumerate(shapes),
                        )
                    )
                result.seeded["heavy_entries"] = len(heavy.entry_ids)
                result.seeded["other_clients"] = len(others)
                result.seeded["other_client_entries"] = sum(len(c.entry_ids) for c in others)
                common.vacuum_like_autovacuum(database_url)

            targets = [
                Target("bare_healthz", "bare app `/healthz` (ceiling of the ceiling)", "bare",
                       "/healthz"),
                Target("healthz", "service `/healthz` (ceiling)", "service", "/healthz"),
                Target("entry_get", "`GET /v1/entries/{id}`", "service", "/",
                       common.lua_cycle_script(workdir, "/v1/entries/", heavy.entry_ids),
                       heavy.token),
                Target("entries_list", "`GET /v1/entries?limit=50`", "service",
                       "/v1/entries?limit=50", None, heavy.token),
                Target("entry_create", "`POST /v1/entries`", "service", "/",
                       create_script(workdir, others)),
                Target("mood_by_person", "`GET /v1/summaries/mood-by-person`", "service",
                       "/v1/summaries/mood-by-person", None, heavy.token),
                Target("mood_timeline", "`GET /v1/summaries/mood-timeline?bucket=week`",
                       "service", "/v1/summaries/mood-timeline?bucket=week", None,
                       heavy.token),
                Target("sync", f"`GET /v1/sync?since=<anchor>` ({SYNC_CHANGES_BEHIND} changes)",
                       "service", f"/v1/sync?since={anchor}", None, heavy.token),
            ]  # fmt: skip
            if args.only:  # the two ceilings are always measured: every ratio needs them
                keep = {"bare_healthz", "healthz", *args.only.split(",")}
                targets = [t for t in targets if t.key in keep]
            result.targets = [{"key": t.key, "label": t.label} for t in targets]
            with phase(result, "load (wrk)"):
                load(result, targets, servers, wrk, args)
            if args.load_only:
                return result

            with phase(result, f"bulk insert {args.bulk_owners * BULK_PER_OWNER:,} other entries"):
                result.seeded["bulk_entries"] = seed.bulk_other_owners(
                    database_url, args.bulk_owners, BULK_PER_OWNER
                )

            with phase(result, "sequential latency, large database"):
                result.large = sequential(servers["service"], heavy.token, paths, args)

            with phase(result, f"seed export client ({args.export_entries:,} entries)"):
                exporter = seed_client(
                    servers["service"],
                    "exporter",
                    people=25,
                    entries=args.export_entries,
                    days=1460,
                    seed=3,
                )
            with phase(result, "export (fresh workers)"):
                common.stop_server(servers.pop("service"))
                servers["service"] = common.start_server("service", "app.main:app", env, workers)
                result.export = measure_export(
                    servers["service"],
                    exporter.token,
                    others[0].token,
                    args.export_entries,
                    args.export_runs,
                )

            if py_spy is not None and args.profile_seconds > 0:
                with phase(result, "profiles (py-spy)"), optional(result, "profiles"):
                    by_key = {t.key: t for t in targets}
                    for key in ("healthz", "entry_get", "entries_list"):
                        summary = profile_endpoint(
                            py_spy, wrk, args, servers["service"], by_key[key], key, kind
                        )
                        if summary is not None:
                            result.profiles[key] = summary
                    summary = profile_export(
                        py_spy, servers["service"], exporter.token, "export", kind
                    )
                    if summary is not None:
                        result.profiles["export"] = summary
            return result
        finally:
            for server in servers.values():
                common.stop_server(server)


def load(
    result: DbResult,
    targets: list[Target],
    servers: dict[str, Server],
    wrk: str,
    args: argparse.Namespace,
) -> None:
    workers = {name: server.worker_pids() for name, server in servers.items()}
    all_pids = [pid for pids in workers.values() for pid in pids]

    def measure(target: Target, seconds: float) -> Sample:
        base = servers[target.server].base
        sample = run_wrk(wrk, args, base, target, seconds, workers[target.server], all_pids)
        for server in servers.values():
            if server.process.poll() is not None:
                raise RuntimeError(f"the {server.name} server died")
        return sample

    if args.warmup > 0:
        for target in targets:
            measure(target, args.warmup)
    for repeat in range(args.repeats):
        # Interleaved; the order rotates so no target always runs first or last.
        shift = (repeat * 3) % len(targets)
        for target in targets[shift:] + targets[:shift]:
            sample = measure(target, args.duration)
            result.samples.setdefault(target.key, []).append(sample)
            print(
                f"    run {repeat + 1}/{args.repeats} {target.key:15} {sample.rps:9.1f} req/s"
                f"  p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms"
                f"  errors {sample.errors}  server CPU {sample.server_cpu_ms:.2f} ms/req"
                f"  other CPU {sample.other_cpu:.0%}",
                flush=True,
            )


# --- report -------------------------------------------------------------------------------


def ratio(result: DbResult, key: str, ceiling: str, attr: str = "rps") -> float:
    """Median over repetitions of (target ÷ ceiling of the same repetition)."""
    pairs = zip(result.samples[key], result.samples[ceiling], strict=True)
    return statistics.median(getattr(s, attr) / getattr(c, attr) for s, c in pairs)


def med(samples: list[Sample], attr: str) -> float:
    return statistics.median(getattr(s, attr) for s in samples)


def load_table(result: DbResult) -> list[str]:
    lines = [
        f"#### {result.kind}",
        "",
        "| endpoint | req/s | req/s min–max | ÷ service /healthz | ÷ bare /healthz | p50 ms "
        "| p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | errors | other CPU max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in result.targets:
        key = target["key"]
        samples = result.samples[key]
        rps = [s.rps for s in samples]
        pg = f"{med(samples, 'postgres_cpu_ms'):.2f}" if result.kind == "postgresql" else "–"
        service_ratio = "–" if key == "bare_healthz" else f"{ratio(result, key, 'healthz'):.3f}"
        lines.append(
            f"| {target['label']} | {med(samples, 'rps'):,.0f} | {min(rps):,.0f}–{max(rps):,.0f} "
            f"| {service_ratio} | {ratio(result, key, 'bare_healthz'):.3f} "
            f"| {med(samples, 'p50_ms'):.2f} | {med(samples, 'p99_ms'):.2f} "
            f"| {med(samples, 'server_cpu_ms'):.2f} | {pg} "
            f"| {sum(s.errors for s in samples)} | {max(s.other_cpu for s in samples):.0%} |"
        )
    return [*lines, ""]


def scaling_table(results: list[DbResult]) -> list[str]:
    lines = [
        "| endpoint (heavy client) | "
        + " | ".join(
            f"{r.kind} small ms | {r.kind} large ms | {r.kind} large ÷ small" for r in results
        )
        + " |",
        "| --- |" + " ---: | ---: | ---: |" * len(results),
    ]
    for key, label in SEQ_LABELS.items():
        cells = []
        for r in results:
            small, large = r.small[key]["median_ms"], r.large[key]["median_ms"]
            cells.append(f"{small:.1f} | {large:.1f} | {large / small:.2f}")
        lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    return [*lines, ""]


def export_table(results: list[DbResult]) -> list[str]:
    lines = [
        "| database | entries | size MB | seconds (median of runs) | entries/s | time to first "
        "byte s | worker RSS baseline MiB | worker RSS peak MiB | peak growth MiB (first "
        "run / max) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        e = r.export
        first_byte = statistics.median(run["first_byte_s"] for run in e["runs"])
        lines.append(
            f"| {r.kind} | {e['entries']:,} | {e['bytes'] / 1e6:.1f} | {e['median_seconds']:.2f} "
            f"| {e['median_entries_per_s']:,.0f} | {first_byte:.2f} "
            f"| {e['busiest_baseline_kib'] / 1024:.1f} | {e['busiest_peak_kib'] / 1024:.1f} "
            f"| {e['first_run_growth_kib'] / 1024:.1f} / {e['max_growth_kib'] / 1024:.1f} |"
        )
    return [*lines, ""]


def goals(results: list[DbResult]) -> tuple[list[str], list[tuple[str, str, bool]]]:
    ratios = (  # name, target ÷ ceiling (req/s), at least
        ("service `/healthz` ÷ bare app `/healthz` (req/s)", "healthz", "bare_healthz", 0.60),
        ("`GET /v1/entries/{id}` ÷ `/healthz`", "entry_get", "healthz", 0.35),
        ("list 50 ÷ `/healthz`", "entries_list", "healthz", 0.20),
        ("create ÷ `/healthz`", "entry_create", "healthz", 0.20),
    )
    rows: list[tuple[str, str, Callable[[DbResult], tuple[str, bool]]]] = [
        *(
            (
                name,
                f"≥ {bound:.2f}",
                lambda r, k=key, c=ceiling, b=bound: _at_least(ratio(r, k, c), b),
            )
            for name, key, ceiling, bound in ratios
        ),
        (
            "mood-by-person, heavy client, median (small / large database)",
            "≤ 30 ms",
            lambda r: (
                f"{r.small['mood_by_person']['median_ms']:.1f} / "
                f"{r.large['mood_by_person']['median_ms']:.1f} ms",
                max(r.small["mood_by_person"]["median_ms"], r.large["mood_by_person"]["median_ms"])
                <= 30,
            ),
        ),
        (
            "mood-by-person large ÷ small database",
            "≤ 1.5×",
            lambda r: _at_most(
                r.large["mood_by_person"]["median_ms"] / r.small["mood_by_person"]["median_ms"],
                1.5,
            ),
        ),
        *(
            (
                f"session brief as {kind}, heavy client, median (small / large database)",
                f"≤ {bound:,} ms",
                lambda r, k=key, b=bound: (
                    f"{r.small[k]['median_ms']:.0f} / {r.large[k]['median_ms']:.0f} ms",
                    max(r.small[k]["median_ms"], r.large[k]["median_ms"]) <= b,
                ),
            )
            for kind, key, bound in (("HTML", "brief_html", 300), ("PDF", "brief_pdf", 2000))
        ),
        *(
            (
                f"session brief as {kind}, large ÷ small database",
                "≤ 1.5×",
                lambda r, k=key: _at_most(r.large[k]["median_ms"] / r.small[k]["median_ms"], 1.5),
            )
            for kind, key in (("HTML", "brief_html"), ("PDF", "brief_pdf"))
        ),
        (
            "export of 20,000 entries (entries/s)",
            "≥ 20,000",
            lambda r: (
                f"{r.export['median_entries_per_s']:,.0f}",
                r.export["median_entries_per_s"] >= 20_000,
            ),
        ),
        (
            "export peak memory growth",
            "≤ 50 MB",
            lambda r: (
                f"{r.export['max_growth_kib'] / 1024:.1f} MiB",
                r.export["max_growth_kib"] * 1024 <= 50e6,
            ),
        ),
    ]
    header = "| goal | target | " + " | ".join(f"{r.kind} | pass?" for r in results) + " |"
    lines = [header, "| --- | --- |" + " ---: | :---: |" * len(results)]
    verdicts: list[tuple[str, str, bool]] = []
    for name, target, check in rows:
        cells = []
        for r in results:
            value, ok = check(r)
            verdicts.append((name, r.kind, ok))
            cells.append(f"{value} | {'PASS' if ok else '**FAIL**'}")
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")
    return [*lines, ""], verdicts


def _at_least(value: float, bound: float) -> tuple[str, bool]:
    return f"{value:.3f}", value >= bound


def _at_most(value: float, bound: float) -> tuple[str, bool]:
    return f"{value:.2f}×", value <= bound


def profile_section(results: list[DbResult]) -> list[str]:
    lines: list[str] = [
        "py-spy `record --gil --nonblocking` (250 Hz) of one uvicorn worker: only the thread "
        "holding the GIL "
        "is sampled, so the shares below are shares of the worker's Python CPU time — what "
        "limits a worker's requests/s. Time the worker spends waiting (for PostgreSQL, for "
        "the GIL, for the network) is not in them. Stage shares are inclusive and overlap.",
        "",
    ]
    for r in results:
        for key, summary in r.profiles.items():
            what = {
                **SEQ_LABELS,
                "healthz": "GET /healthz",
                "export": "GET /v1/export?format=json (20,000 entries)",
            }[key]
            load_note = (
                f"under wrk load ({summary['rps_while_profiled']:,.0f} req/s for the whole "
                f"server while profiled, {summary['worker_cpu_ms_per_request']:.2f} ms of "
                "worker CPU per request)"
                if "rps_while_profiled" in summary
                else f"during one download ({summary['export_seconds_while_profiled']:.2f} s)"
            )
            lines += [
                f"#### {r.kind}: {what}",
                "",
                f"{summary['samples']} samples {load_note}; stacks in `{summary['file']}`.",
                "",
                "| stage | share of GIL samples |",
                "| --- | ---: |",
                *(f"| {name} | {pct:.1f}% |" for name, pct in summary["stages"]),
                "",
                "<details><summary>By package of the innermost frame; top functions</summary>",
                "",
                "| package (innermost frame) | share |",
                "| --- | ---: |",
                *(f"| {name} | {pct:.1f}% |" for name, pct in summary["categories"][:10]),
                "",
                "| inclusive | function (file) |",
                "| ---: | --- |",
                *(f"| {pct:.1f}% | `{name}` |" for name, pct in summary["inclusive"][:20]),
                "",
                "| self | function (file) |",
                "| ---: | --- |",
                *(f"| {pct:.1f}% | `{name}` |" for name, pct in summary["self"][:10]),
                "",
                "</details>",
                "",
            ]
    return lines


def machine(load_at_start: tuple[float, float, float], wrk: str, pg_version: str) -> list[str]:
    import sqlite3

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "app", "migrations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}; code: commit "
        f"{commit or '?'}"
        + (f" with {len(changed)} uncommitted files in app/ or migrations/" if changed else ""),
        f"- machine: {os.cpu_count()} CPUs (nproc), {memory} memory, {cpu}, "
        f"{platform.system()} {platform.release()}",
        "- load average at the start of the run (1/5/15 min): "
        + "/".join(f"{x:.2f}" for x in load_at_start)
        + "; at the end: {END_LOAD} — the machine is "
        "shared with other work (test suites), see the `other CPU` column",
        f"- Python {platform.python_version()}; {common.versions()}; SQLite "
        f"{sqlite3.sqlite_version}; PostgreSQL {pg_version} (127.0.0.1)",
        f"- {wrk_version.splitlines()[0].split(' Copyright')[0] if wrk_version else 'wrk'}",
    ]


def method(args: argparse.Namespace) -> list[str]:
    return [
        f"- servers: `uvicorn app.main:app --host 127.0.0.1 --workers {args.workers} "
        "--no-access-log` with ENVIRONMENT=production, a random 64-character SECRET_KEY, "
        f"RATE_LIMIT_PER_MINUTE={RATE_LIMIT_NEVER_REACHED:,} (the limiter runs as in "
        "production, counting every request, but never refuses one), "
        "ACCESS_TOKEN_MINUTES=60 (one login lasts the run), "
        "stdout/stderr (the app's JSON log lines) to /dev/null, after `alembic upgrade head`; "
        "the ceiling of the ceiling is `uvicorn bench.bare_app:app` with the same flags",
        f"- data: a heavy client (Europe/London) with {HEAVY_PEOPLE} people, "
        f"{args.heavy_entries:,} entries over {HEAVY_DAYS} days, 2 focus areas, 16 sessions, "
        f"PHQ-9/GAD-7 every 3 weeks; {args.clients} other clients with 6–15 people and "
        "100–300 entries; all through `POST /v1/import` of generated format_version 1 "
        "documents (bench/seed.py)",
        f"- load: wrk `-t{args.threads} -c{args.connections} -d{args.duration:g}s --latency` "
        f"from a separate process, {args.repeats} repetitions interleaved (rotating order) "
        f"after a {args.warmup:g} s warm-up per target; the median is reported, and each ratio "
        "is the median over repetitions of (target ÷ ceiling measured in the same repetition)",
        "- `GET /v1/entries/{id}` cycles over the heavy client's 5,000 ids; `POST /v1/entries` "
        f"cycles over the {args.clients} other clients' tokens and people (2 people, 2 emotions, "
        f"a communication analysis; no Idempotency-Key); sync starts {SYNC_CHANGES_BEHIND} "
        "changes before the heavy client's latest (a device catching up)",
        "- CPU ms/req: user+system CPU of the target server's worker processes (and of all "
        "PostgreSQL processes) during a run ÷ requests; other CPU: share of the machine's CPU "
        "used during the run by processes outside the test (read from /proc)",
        f"- data growth: sequential requests on one keep-alive connection (httpx), "
        f"{args.seq_warmup} warm-up then up to {args.seq_requests} timed (at most "
        f"{args.seq_max_seconds:g} s each), for the heavy client while the database holds "
        f"only that client (small) and after {args.bulk_owners * BULK_PER_OWNER:,} entries of "
        f"{args.bulk_owners:,} other owners (5 people each, one person and one emotion per "
        "entry) were inserted with plain SQL, together with the other clients and the entries "
        "the create test wrote (large); PostgreSQL is VACUUM ANALYZEd after each seeding step "
        "and after the bulk load (what autovacuum would do; it is off on this machine's server), "
        "SQLite gathers its statistics itself (PRAGMA optimize on connection check-in)",
        f"- export: `GET /v1/export?format=json` of a client with {args.export_entries:,} "
        f"entries, {args.export_runs} downloads streamed by httpx on freshly started workers "
        "(warmed with two small exports each); RSS of every worker sampled from /proc every "
        "5 ms; growth = peak − RSS before the first download, for the worker that grew most",
    ]


def report(
    results: list[DbResult],
    args: argparse.Namespace,
    header: list[str],
    minutes: float,
    end_load: str,
) -> str:
    goal_lines, _ = goals(results)
    lines = [
        "# Benchmark results",
        "",
        "Produced by `make bench` (bench/run.py); the raw numbers are in bench/out/results.json.",
        f"Whole run: {minutes:.1f} minutes.",
        "",
        "## Machine and versions",
        "",
        *(line.replace("{END_LOAD}", end_load) for line in header),
        "",
        "## Method",
        "",
        *method(args),
        "",
        "## Goals",
        "",
        "Medians on this 2-core machine, wrk and the servers sharing it.",
        "",
        *goal_lines,
        "## 1. Throughput and latency under load (wrk)",
        "",
    ]
    for r in results:
        lines += load_table(r)
    lines += [
        "## 2. Cost as the data grows (sequential, median latency)",
        "",
        "small: the database holds only the heavy client; large: plus "
        f"{args.bulk_owners * BULK_PER_OWNER:,} entries of other owners, the {args.clients} "
        "other clients and the entries written by the create test.",
        "",
        *scaling_table(results),
        "## 3. Export",
        "",
        *export_table(results),
        "## 4. Where time goes",
        "",
        "### py-spy profiles of a worker under load",
        "",
        *profile_section(results),
        *(f"- **{r.kind}: {failure}**" for r in results for failure in r.failures),
        "",
        "### Phase durations (s)",
        "",
        *(
            f"- {r.kind}: " + ", ".join(f"{name} {secs:.0f}" for name, secs in r.seconds.items())
            for r in results
        ),
        "",
    ]
    if ANALYSIS.exists():
        lines += ["", ANALYSIS.read_text().strip(), ""]
    return "\n".join(lines)


def render_again() -> None:
    """RESULTS.md from the last run's results.json, the profiles summarised again from
    their stack files, and the current ANALYSIS.md."""
    raw = json.loads((OUT_DIR / "results.json").read_text())
    results = []
    for item in raw["results"]:
        item.pop("stages", None)  # written by runs before the stage costs left
        samples = {k: [Sample(**s) for s in v] for k, v in item.pop("samples").items()}
        result = DbResult(**item)
        result.samples = samples
        for summary in result.profiles.values():
            stacks = ROOT / summary.get("file", "-")
            if stacks.is_file():
                summary.update(summarise_profile(stacks.read_text()))
        results.append(result)
    text = report(
        results,
        argparse.Namespace(**raw["args"]),
        raw["header"],
        raw["minutes"],
        raw["end_load"],
    )
    RESULTS.write_text(text)
    print(f"written to {RESULTS.relative_to(ROOT)} from bench/out/results.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=common.DEFAULT_PG_URL, help="a local server")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=1, help="seconds per target, discarded")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--clients", type=int, default=OTHER_CLIENTS)
    parser.add_argument("--heavy-entries", type=int, default=HEAVY_ENTRIES)
    parser.add_argument("--bulk-owners", type=int, default=BULK_OWNERS)
    parser.add_argument("--export-entries", type=int, default=EXPORT_ENTRIES)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--seq-requests", type=int, default=50)
    parser.add_argument("--seq-warmup", type=int, default=5)
    parser.add_argument("--seq-max-seconds", type=float, default=12)
    parser.add_argument("--profile-seconds", type=int, default=10)
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone"
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="a quick check while optimising: only the wrk load tables, printed, nothing written",
    )
    parser.add_argument(
        "--only", default="", help="with --load-only: comma-separated target keys to load"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: write bench/RESULTS.md again from bench/out/results.json and "
        "the profile files (e.g. after editing bench/ANALYSIS.md)",
    )
    args = parser.parse_args()
    if args.render:
        render_again()
        return
    if not 1 <= args.duration <= 60 or not 1 <= args.repeats <= 9:
        parser.error("--duration must be 1–60 s and --repeats 1–9")
    if not 2 <= args.clients <= 200 or args.export_entries < 1000:
        parser.error("--clients must be 2–200 and --export-entries at least 1000")

    # SIGTERM runs the finally blocks too (servers stopped, database dropped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    load_at_start = os.getloadavg()
    print(f"load average at start: {load_at_start}")
    wrk = ensure_wrk()
    py_spy = None if args.load_only or args.profile_seconds <= 0 else ensure_py_spy()
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    pg_version = common.postgres_version(args.pg_url) if "postgresql" in databases else "–"
    header = machine(load_at_start, wrk, pg_version)
    results = [bench_database(kind, wrk, py_spy, args) for kind in databases]

    if args.load_only:
        for result in results:
            print("\n".join(load_table(result)))
        return
    minutes = (time.monotonic() - started) / 60
    end_load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(results, args, header, minutes, end_load)
    print("\n" + text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw = {
        "args": vars(args),
        "load_at_start": load_at_start,
        "header": header,
        "minutes": minutes,
        "end_load": end_load,
        "results": [
            asdict(r) | {"samples": {k: [asdict(s) for s in v] for k, v in r.samples.items()}}
            for r in results
        ],
    }
    if not args.no_write:
        (OUT_DIR / "results.json").write_text(json.dumps(raw, indent=1, default=str))
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(ROOT)} and bench/out/results.json")
    _, verdicts = goals(results)
    failed = [f"{name} ({kind})" for name, kind, ok in verdicts if not ok]
    print(f"\n{len(verdicts) - len(failed)}/{len(verdicts)} goals met")
    print(f"total {(time.monotonic() - started) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
