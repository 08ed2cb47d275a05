"""Sequential latency of the summaries for a heavy client, in-process, on fresh databases.

    .venv/bin/python bench/summary_latency.py [--backend sqlite|postgresql] [--other-owners N]

For each database (a SQLite file in a temporary directory; a uniquely named PostgreSQL
database on the local server, dropped afterwards) it runs `alembic upgrade head` as
production does, builds the app with production settings, imports the heavy client of
`make bench` (40 people, 5,000 entries over ~3 years, 2 focus areas, Europe/London) through
`POST /v1/import`, then times each summary one request at a time (warm-up, a wait of up to
10 s for a quiet second on the machine, then the timed requests). It prints the median
latency and the CPU time per request of this process and of the database's PostgreSQL
backends: on a shared machine CPU time is the steadier of the two. Nothing is ANALYZEd by
hand: the databases are measured as production would have them right after the import.
With `--other-owners N` it then writes N × 500 entries of other owners with plain SQL (as
`make bench` does; PostgreSQL is ANALYZEd afterwards) and measures again.
"""

import argparse
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a script: make `bench` and `app` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Importing app.main builds its module-level app from the environment: keep that one inert
# (this script builds its own with production settings).
os.environ.update(ENVIRONMENT="test", DATABASE_URL="sqlite:///:memory:")

from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from bench import common, seed

HEAVY_PEOPLE, HEAVY_ENTRIES, HEAVY_DAYS, HEAVY_SEED = 40, 5000, 1100, 1
ENTRIES_PER_OTHER_OWNER = 500
SECRET_KEY = secrets.token_urlsafe(48)  # 64 characters, as production requires
PATHS = {
    "mood-by-person": "/v1/summaries/mood-by-person",
    "mood-timeline (week)": "/v1/summaries/mood-timeline?bucket=week",
    "focus-areas": "/v1/summaries/focus-areas",
    "between-sessions": "/v1/summaries/between-sessions",
    "entries list (50)": "/v1/entries?limit=50",  # not a summary: shows any plan change
}


def production_settings(database_url: str) -> Settings:
    return Settings(
        environment="production",
        database_url=database_url,
        secret_key=SECRET_KEY,
        rate_limit_per_minute=0,
        access_token_minutes=60,
    )


def migrate(database_url: str) -> None:
    env = dict(
        os.environ, DATABASE_URL=database_url, ENVIRONMENT="production", SECRET_KEY=SECRET_KEY
    )
    common.migrate(env)


def silence_app_logs() -> None:
    """The app logs one JSON line per request on stderr; the timings are the output here."""
    for handler in logging.getLogger("app").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the process's life


def seed_heavy_client(client: TestClient) -> dict[str, str]:
    """Register the heavy client, import its diary; returns the Authorization header."""
    email = f"heavy-{secrets.token_hex(4)}@example.org"
    response = client.post(
        "/v1/auth/register",
        json={
            "email": email,
            "password": seed.PASSWORD,
            "role": "client",
            "display_name": "Heavy",
            "timezone": "Europe/London",
        },
    )
    response.raise_for_status()
    response = client.post("/v1/auth/token", data={"username": email, "password": seed.PASSWORD})
    response.raise_for_status()
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    document = seed.export_document(
        random.Random(HEAVY_SEED),
        people=HEAVY_PEOPLE,
        entries=HEAVY_ENTRIES,
        days=HEAVY_DAYS,
    )
    for part in seed.split_entries(document, per_part=HEAVY_ENTRIES):
        client.post("/v1/import", json=part, headers=headers).raise_for_status()
    return headers


@dataclass
class Timing:
    median_ms: float
    cpu_ms: float  # per request: this process and the database's server processes


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
        ticks = common.test_ticks(pids)
        return sum(ticks[pid] for pid in pids) / common.CLK_TCK

    return seconds


def time_summaries(
    client: TestClient,
    headers: dict[str, str],
    args: argparse.Namespace,
    database_seconds: Callable[[], float],
) -> dict[str, Timing]:
    """Per path, one request at a time: the median latency, and the CPU time per request of
    this process (the app; on SQLite the database too) plus `database_seconds`. On a shared
    machine the CPU time varies less than the latency."""
    timings = {}
    for name, path in PATHS.items():
        for _ in range(args.warmup):
            client.get(path, headers=headers).raise_for_status()
        common.wait_until_quiet(max_wait=10)
        wall = []
        cpu_before = time.process_time() + database_seconds()
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            wall.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        cpu = time.process_time() + database_seconds() - cpu_before
        timings[name] = Timing(statistics.median(wall), cpu * 1000 / args.requests)
        print(
            f"  {name:22} median {timings[name].median_ms:7.1f} ms"
            f"  CPU {timings[name].cpu_ms:6.1f} ms per request",
            flush=True,
        )
    return timings


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with common.fresh_database(backend, workdir, args.pg_url, prefix="summary_latency") as url:
        migrate(url)
        app = create_app(production_settings(url))
        silence_app_logs()
        database_seconds = postgres_backend_seconds(url) if backend == "postgresql" else lambda: 0.0
        try:
            with TestClient(app) as client:
                started = time.perf_counter()
                headers = seed_heavy_client(client)
                print(f"{backend}: heavy client imported in {time.perf_counter() - started:.0f} s")
                results["small"] = time_summaries(client, headers, args, database_seconds)
                if args.other_owners:
                    print(f"{backend}: writing {args.other_owners} other owners' entries")
                    seed.bulk_other_owners(url, args.other_owners, ENTRIES_PER_OTHER_OWNER)
                    results["large"] = time_summaries(client, headers, args, database_seconds)
        finally:
            app.state.engine.dispose()
    return results


def print_table(results: dict[str, dict[str, dict[str, Timing]]]) -> None:
    columns = [(backend, size) for backend, sizes in results.items() for size in sizes]
    print(
        "\n| median ms (CPU ms per request) | " + " | ".join(f"{b} {s}" for b, s in columns) + " |"
    )
    print("| --- |" + " ---: |" * len(columns))
    for name in PATHS:
        cells = (results[b][s][name] for b, s in columns)
        print(
            f"| {name} | " + " | ".join(f"{t.median_ms:.1f} ({t.cpu_ms:.1f})" for t in cells) + " |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql"), action="append", dest="backends"
    )
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--other-owners", type=int, default=0, help="then add N × 500 entries and measure again"
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", common.DEFAULT_PG_URL))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="summary-latency-") as workdir:
        for backend in args.backends or ["sqlite", "postgresql"]:
            results[backend] = run_backend(backend, args, Path(workdir))
    print_table(results)


if __name__ == "__main__":
    main()
