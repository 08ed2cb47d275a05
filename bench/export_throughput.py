"""Export throughput, in-process: `.venv/bin/python bench/export_throughput.py`.

For SQLite (a file in a temporary directory) and PostgreSQL (a uniquely named database on
the local server, dropped afterwards) it runs `alembic upgrade head`, builds the service's
app with `app.main.create_app` and fills the database as bench/run.py has it when it
exports: other owners' entries written with plain SQL (500,000 by default, ANALYZEd on
PostgreSQL: the planner's choices depend on it), then one client's generated diary
(20,000 entries by default) imported through `POST /v1/import`. It then downloads
`GET /v1/export?format=json` a few times (after one warm-up) by calling the ASGI app
directly, as uvicorn would but without a socket, and checks each document's entry count.

It prints each download and the medians per database: entries per second of wall-clock
time, and per second of this process's CPU time, which other load on the machine disturbs
less (on PostgreSQL it leaves out the server's share). With `--memory`, one more download
runs under tracemalloc, its chunks dropped as they come, and the peak is printed.

No uvicorn and no socket, so the numbers differ from bench/run.py's: compare runs of this
script with each other.

With `--baseline DIR` (another checkout, e.g. `git worktree add /tmp/old HEAD`) it is an A/B
run on the same database: two worker processes, one with this checkout's app and one with
DIR's, download in turn (`--runs` each, alternating which goes first), and it prints each
one's medians, the ratios, and whether the two wrote the same bytes (apart from
`exported_at`). On a shared machine this is the comparison to trust; per CPU second most.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a script: make `bench` and `app` importable
    # (a worker of an A/B run, `--worker ROOT DATABASE_URL`, imports them from ROOT)
    sys.path.insert(
        0,
        sys.argv[sys.argv.index("--worker") + 1]
        if "--worker" in sys.argv
        else str(Path(__file__).resolve().parents[1]),
    )
# Before any app import: importing app.main builds its module-level app from the environment.
os.environ.setdefault("ENVIRONMENT", "test")

import orjson
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from bench import common, seed

SECRET_KEY = "export-throughput-benchmark-secret-0123456789abcdef"
EXPORT_PATH = "/v1/export?format=json"
OTHER_ENTRIES_PER_OWNER = 500  # as bench/run.py writes them
AUTHORIZATION = "EXPORT_BENCH_AUTHORIZATION"  # how a worker gets the client's header
RESULT = "result: "  # a worker's answer line (the app may log to stdout too)
WORKER = "--worker"


def migrate(database_url: str) -> None:
    config = Config(str(common.ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(common.ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["quiet"] = True
    command.upgrade(config, "head")


def seed_client(client: TestClient, entries: int) -> dict[str, str]:
    """A client with a generated diary (the shape bench/run.py exports); its auth header."""
    email, password = "exporter@example.org", seed.PASSWORD
    response = client.post(
        "/v1/auth/register",
        json={
            "email": email,
            "password": password,
            "role": "client",
            "display_name": "Exporter",
            "timezone": "Europe/London",
        },
    )
    response.raise_for_status()
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    document = seed.export_document(random.Random(3), people=25, entries=entries, days=1460)
    for part in seed.split_entries(document, 5000):
        response = client.post(
            "/v1/import",
            content=orjson.dumps(part),
            headers=headers | {"Content-Type": "application/json"},
        )
        response.raise_for_status()
    return headers


class Download:
    """One `GET /v1/export?format=json` through the ASGI app. The body streams chunk by
    chunk (TestClient would gather it first); `keep` keeps the chunks."""

    def __init__(self, app: FastAPI, headers: dict[str, str], keep: bool) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.chunks: list[bytes] | None = [] if keep else None
        self.size = 0
        self._requested = False
        self._done = asyncio.Event()

    def run(self) -> "Download":
        asyncio.run(self._request())
        return self

    async def _request(self) -> None:
        path, _, query = EXPORT_PATH.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},  # as uvicorn says
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        await self.app(scope, self._receive, self._send)

    async def _receive(self) -> dict[str, Any]:
        # Like a server: the request, then nothing until the client goes (after the body).
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._done.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the export answered {message['status']}")
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            self.size += len(body)
            if self.chunks is not None:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self._done.set()


def app_for(database_url: str) -> FastAPI:
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET_KEY,
        rate_limit_per_minute=0,
    )
    app = create_app(settings)
    logging.getLogger("app").setLevel(logging.WARNING)  # no access log line per request
    return app


def timed_download(app: FastAPI, headers: dict[str, str], entries: int) -> dict[str, Any]:
    """One download: wall and CPU seconds, size, and a digest of the bytes (`exported_at`
    left out) to compare two checkouts' documents with."""
    started, started_cpu = time.perf_counter(), time.process_time()
    download = Download(app, headers, keep=True).run()
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    body = b"".join(download.chunks or [])
    exported = len(orjson.loads(body)["entries"])
    if exported != entries:
        raise RuntimeError(f"the export held {exported} entries, not {entries}")
    stable = re.sub(rb'"exported_at":"[^"]*"', b'"exported_at":""', body, count=1)
    return {
        "wall": elapsed,
        "cpu": elapsed_cpu,
        "size": download.size,
        "digest": hashlib.sha256(stable).hexdigest(),
    }


def traced_peak(app: FastAPI, headers: dict[str, str]) -> float:
    """tracemalloc's peak (MiB) during one download whose chunks are dropped as they come."""
    tracemalloc.start()
    Download(app, headers, keep=False).run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def seed_database(database_url: str, entries: int, other_owners: int) -> dict[str, str]:
    """The database as bench/run.py has it when it exports; the client's auth header."""
    migrate(database_url)
    if other_owners:
        started = time.perf_counter()
        seed.bulk_other_owners(database_url, other_owners, OTHER_ENTRIES_PER_OWNER)
        print(
            f"  wrote {other_owners * OTHER_ENTRIES_PER_OWNER:,} other entries "
            f"in {time.perf_counter() - started:.1f} s"
        )
    app = app_for(database_url)
    try:
        with TestClient(app) as client:
            started = time.perf_counter()
            headers = seed_client(client, entries)
            print(f"  seeded {entries:,} entries in {time.perf_counter() - started:.1f} s")
    finally:
        app.state.engine.dispose()
    return headers


def measure(
    database_url: str, headers: dict[str, str], entries: int, runs: int, memory: bool
) -> dict[str, float]:
    """Median entries/s (per wall-clock and per CPU second of this process) of `runs`
    downloads of the seeded client's export."""
    app = app_for(database_url)
    wall, cpu = [], []
    try:
        Download(app, headers, keep=False).run()  # warm up: SQL compilation, connection pool
        for _ in range(runs):
            result = timed_download(app, headers, entries)
            wall.append(entries / result["wall"])
            cpu.append(entries / result["cpu"])
            print(
                f"  {result['size'] / 1e6:.1f} MB in {result['wall']:.2f} s "
                f"({result['cpu']:.2f} s CPU) = {wall[-1]:,.0f} entries/s "
                f"({cpu[-1]:,.0f} per CPU second)"
            )
        if memory:
            print(f"  tracemalloc peak during one download: {traced_peak(app, headers):.1f} MiB")
    finally:
        app.state.engine.dispose()
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


def worker(database_url: str, entries: int) -> None:
    """A worker of an A/B run: after a warm-up, one download per `run` line on stdin (a
    tracemalloc peak per `memory` line), answered by one JSON line on stdout."""
    app = app_for(database_url)
    headers = {"Authorization": os.environ[AUTHORIZATION]}
    try:
        Download(app, headers, keep=False).run()
        print(f"{RESULT}{json.dumps({'ready': True})}", flush=True)
        for line in sys.stdin:
            if line.strip() == "memory":
                answer: dict[str, Any] = {"peak_mib": traced_peak(app, headers)}
            else:
                answer = timed_download(app, headers, entries)
            print(f"{RESULT}{json.dumps(answer)}", flush=True)
    finally:
        app.state.engine.dispose()


class Worker:
    """The parent's end of a worker process running the app of the checkout `root`."""

    def __init__(self, root: Path, database_url: str, headers: dict[str, str], entries: int):
        self.root = root
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                WORKER,
                str(root),
                database_url,
                "--entries",
                str(entries),
            ],
            cwd=root,
            env=os.environ | {AUTHORIZATION: headers["Authorization"]},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.answer()  # warmed up

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(RESULT):
                answer: dict[str, Any] = json.loads(line[len(RESULT) :])
                return answer
        raise RuntimeError(f"the worker for {self.root} stopped (code {self.process.wait()})")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def compare(
    database_url: str,
    headers: dict[str, str],
    entries: int,
    runs: int,
    baseline: Path,
    memory: bool,
) -> dict[str, dict[str, float]]:
    """An A/B run: this checkout's app and the baseline's, downloading in turn."""
    names = {"this": common.ROOT, "baseline": baseline}
    workers: dict[str, Worker] = {}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    try:
        for name, root in names.items():
            workers[name] = Worker(root, database_url, headers, entries)
        for run in range(runs):
            for name in list(names)[run % 2 :] + list(names)[: run % 2]:
                result = workers[name].ask("run")
                results[name].append(result)
                print(
                    f"  {name:8} {result['size'] / 1e6:.1f} MB in {result['wall']:.2f} s "
                    f"({result['cpu']:.2f} s CPU) = {entries / result['wall']:,.0f} entries/s "
                    f"({entries / result['cpu']:,.0f} per CPU second)"
                )
        if memory:
            for name, one in workers.items():
                print(f"  {name:8} tracemalloc peak: {one.ask('memory')['peak_mib']:.1f} MiB")
    finally:
        for one in workers.values():
            one.close()
    digests = {result["digest"] for runs_of in results.values() for result in runs_of}
    print(f"  same bytes in every download: {'yes' if len(digests) == 1 else 'NO'}")
    medians = {
        name: {
            "wall": statistics.median(entries / r["wall"] for r in runs_of),
            "cpu": statistics.median(entries / r["cpu"] for r in runs_of),
        }
        for name, runs_of in results.items()
    }
    for kind in ("wall", "cpu"):
        print(
            f"  {kind}: this {medians['this'][kind]:,.0f} / baseline "
            f"{medians['baseline'][kind]:,.0f} entries/s = "
            f"x{medians['this'][kind] / medians['baseline'][kind]:.2f}"
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument(
        "--other-owners", type=int, default=1000, help=f"{OTHER_ENTRIES_PER_OWNER} entries each"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--pg-url", default=common.DEFAULT_PG_URL)
    parser.add_argument("--memory", action="store_true", help="trace one more download")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout: an A/B run of its app against this one"
    )
    parser.add_argument(WORKER, nargs=2, metavar=("ROOT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[1], args.entries)
        return

    medians: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="export-bench-") as workdir:
        for kind in args.databases:
            print(f"{kind}:")
            with common.fresh_database(kind, Path(workdir), args.pg_url, "export_bench") as url:
                headers = seed_database(url, args.entries, args.other_owners)
                if args.baseline:
                    for name, median in compare(
                        url, headers, args.entries, args.runs, args.baseline, args.memory
                    ).items():
                        medians[f"{kind}, {name}"] = median
                    continue
                medians[kind] = measure(url, headers, args.entries, args.runs, args.memory)
            print(
                f"  median: {medians[kind]['wall']:,.0f} entries/s, "
                f"{medians[kind]['cpu']:,.0f} per CPU second"
            )
    for label, median in medians.items():
        print(f"{label}: {median['wall']:,.0f} entries/s, {median['cpu']:,.0f} per CPU second")


if __name__ == "__main__":
    main()
