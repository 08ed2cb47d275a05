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
"""

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a script: make `bench` and `app` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the export answered {message['status']}")
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            self.size += len(body)
            if self.chunks is not None:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self._done.set()


def measure(
    database_url: str, entries: int, other_owners: int, runs: int, memory: bool
) -> dict[str, float]:
    """Median entries/s (per wall-clock and per CPU second of this process) of `runs`
    downloads of a freshly seeded client's export."""
    migrate(database_url)
    if other_owners:
        started = time.perf_counter()
        seed.bulk_other_owners(database_url, other_owners, OTHER_ENTRIES_PER_OWNER)
        print(
            f"  wrote {other_owners * OTHER_ENTRIES_PER_OWNER:,} other entries "
            f"in {time.perf_counter() - started:.1f} s"
        )
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET_KEY,
        rate_limit_per_minute=0,
    )
    app = create_app(settings)
    logging.getLogger("app").setLevel(logging.WARNING)  # no access log line per request
    wall, cpu = [], []
    try:
        with TestClient(app) as client:
            started = time.perf_counter()
            headers = seed_client(client, entries)
            print(f"  seeded {entries:,} entries in {time.perf_counter() - started:.1f} s")
        Download(app, headers, keep=False).run()  # warm up: SQL compilation, connection pool
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            download = Download(app, headers, keep=True).run()
            elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
            exported = len(orjson.loads(b"".join(download.chunks or []))["entries"])
            if exported != entries:
                raise RuntimeError(f"the export held {exported} entries, not {entries}")
            wall.append(entries / elapsed)
            cpu.append(entries / elapsed_cpu)
            print(
                f"  {download.size / 1e6:.1f} MB in {elapsed:.2f} s ({elapsed_cpu:.2f} s CPU) "
                f"= {wall[-1]:,.0f} entries/s ({cpu[-1]:,.0f} per CPU second)"
            )
        if memory:
            tracemalloc.start()
            Download(app, headers, keep=False).run()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"  tracemalloc peak during one download: {peak / 2**20:.1f} MiB")
    finally:
        app.state.engine.dispose()
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


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
    args = parser.parse_args()

    medians: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="export-bench-") as workdir:
        for kind in args.databases:
            print(f"{kind}:")
            with common.fresh_database(kind, Path(workdir), args.pg_url, "export_bench") as url:
                medians[kind] = measure(
                    url, args.entries, args.other_owners, args.runs, args.memory
                )
            print(
                f"  median: {medians[kind]['wall']:,.0f} entries/s, "
                f"{medians[kind]['cpu']:,.0f} per CPU second"
            )
    for kind, median in medians.items():
        print(f"{kind}: {median['wall']:,.0f} entries/s, {median['cpu']:,.0f} per CPU second")


if __name__ == "__main__":
    main()
