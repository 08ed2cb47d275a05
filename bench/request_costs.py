"""CPU per request of the hot endpoints, in process, for quick A/B runs of the request path.

    .venv/bin/python bench/request_costs.py [--backend sqlite|postgresql] [--rounds 5]

Builds a fresh database (migrated as production does), the service's app with production
settings, and one client with 300 imported entries, then sends requests straight through
the ASGI app (no uvicorn, no socket), one at a time, from one event loop with the app's
own threadpool: `/healthz`, `GET /v1/entries/{id}`, a 50-entry list and a create. The
access log is written, to /dev/null, as the benchmark's servers write it. Each
round times every endpoint in turn; the figures are the medians over rounds of the
process CPU per request (all threads; on PostgreSQL plus its backends' CPU), the steadier
figure on a shared machine, and of the wall time. For counts that do not depend on the
machine's load at all, run it under `valgrind --tool=callgrind --instr-atstart=no` with
REQUEST_COSTS_CALLGRIND=1, `--rounds 1 --only <one endpoint>`: "Collected" ÷ requests is
the instructions per request of this process. Run it from another checkout
(`cd /tmp/old && python /work/main/bench/request_costs.py`) to compare code: it imports
`app` from the current directory.
"""

import argparse
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())  # the checkout under test
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # for `bench` itself
os.environ.update(ENVIRONMENT="test", DATABASE_URL="sqlite:///:memory:")

import anyio
import orjson
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from bench import common, seed
from bench.summary_latency import (
    migrate,
    postgres_backend_seconds,
    production_settings,
    silence_app_logs,
)

ENTRIES, PEOPLE = 300, 12
Call = Callable[[], Awaitable[int]]


def asgi_call(app: Any, method: str, path: str, token: str | None, body: bytes = b"") -> Call:
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def call() -> int:
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": raw_path,
            "raw_path": raw_path.encode(), "query_string": query.encode(),
            "root_path": "", "headers": list(headers), "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip
        await app(scope, receive, send)
        return status

    return call


def create_body(person_ids: list[str], n: int) -> bytes:
    return orjson.dumps(
        {
            "occurred_at": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
            "mood": 2 + n % 9,
            "event": f"Bench entry {n}: talked it through and agreed to try again on Sunday.",
            "event_type": "conversation",
            "people": [
                {"person_id": person_ids[0], "quality": n % 5 - 2},
                {"person_id": person_ids[1], "quality": None},
            ],
            "emotions": [
                {"label": "anxious", "intensity": 1 + n % 10, "person_id": person_ids[0]},
                {"label": "hopeful", "intensity": 4},
            ],
            "tags": ["work", "evening"],
            "communication": {
                "what_i_said": "I said I needed more help at home.",
                "what_they_said": "They said they were tired too.",
            },
        }
    )


def setup(settings: Settings) -> tuple[Any, str, str, list[str]]:
    app = create_app(settings)
    with TestClient(app) as client:
        email = f"bench-{secrets.token_hex(4)}@example.org"
        client.post(
            "/v1/auth/register",
            json={
                "email": email,
                "password": seed.PASSWORD,
                "role": "client",
                "display_name": "Bench",
                "timezone": "Europe/London",
            },
        ).raise_for_status()
        token = client.post(
            "/v1/auth/token", data={"username": email, "password": seed.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        document = seed.export_document(random.Random(7), people=PEOPLE, entries=ENTRIES, days=200)
        client.post("/v1/import", json=document, headers=headers).raise_for_status()
        entry_id = client.get("/v1/entries?limit=1", headers=headers).json()["items"][0]["id"]
        people = [p["id"] for p in client.get("/v1/people", headers=headers).json()["items"]]
    return app, token, entry_id, people


def instrument(state: str) -> None:
    """Under `valgrind --tool=callgrind --instr-atstart=no`, count only the timed requests:
    instruction counts do not depend on what else the machine is doing."""
    if os.environ.get("REQUEST_COSTS_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


def measure(app: Any, token: str, entry_id: str, people: list[str], args: Any, backend_cpu: Any):
    counter = iter(range(10**9))

    def creating() -> Call:
        async def call() -> int:
            body = create_body(people, next(counter))
            return await asgi_call(app, "POST", "/v1/entries", token, body)()

        return call

    targets: dict[str, Call] = {
        "healthz": asgi_call(app, "GET", "/healthz", None),
        "read": asgi_call(app, "GET", f"/v1/entries/{entry_id}", token),
        "list50": asgi_call(app, "GET", "/v1/entries?limit=50", token),
        "create": creating(),
    }
    expected = {"healthz": 200, "read": 200, "list50": 200, "create": 201}
    results: dict[str, tuple[list[float], list[float], list[float]]] = {
        k: ([], [], []) for k in targets if k in args.only
    }

    async def run() -> None:
        for name, call in targets.items():  # warm-up
            for _ in range(20):
                assert await call() == expected[name], name
        for _ in range(args.rounds):
            for name in results:
                call = targets[name]
                n = args.requests // (5 if name in {"list50", "create"} else 1)
                walls = []
                instrument("on")
                cpu0, db0 = time.process_time(), backend_cpu()
                for _ in range(n):
                    started = time.perf_counter()
                    await call()
                    walls.append(time.perf_counter() - started)
                instrument("off")
                results[name][0].append((time.process_time() - cpu0) / n * 1e6)
                results[name][1].append((backend_cpu() - db0) / n * 1e6)
                results[name][2].append(statistics.median(walls) * 1e6)

    anyio.run(run)
    print(f"{'endpoint':10} {'app CPU µs':>11} {'db CPU µs':>10} {'wall µs':>9} {'÷ healthz':>10}")
    base = statistics.median(results["healthz"][0]) if "healthz" in results else float("nan")
    for name, (cpus, db_cpus, walls) in results.items():
        cpu, db = statistics.median(cpus), statistics.median(db_cpus)
        wall = statistics.median(walls)
        print(f"{name:10} {cpu:11.0f} {db:10.0f} {wall:9.0f} {(cpu + db) / base:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=common.DEFAULT_PG_URL)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500, help="per round (lists: a fifth)")
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="RATE_LIMIT_PER_MINUTE (0: the limiter off)"
    )
    parser.add_argument(
        "--only", default="healthz,read,list50,create", type=lambda v: set(v.split(","))
    )
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with (
        tempfile.TemporaryDirectory() as workdir,
        common.fresh_database(args.backend, Path(workdir), args.pg_url, "costs") as url,
    ):
        url = url.replace("postgresql://", "postgresql+psycopg://")
        migrate(url)
        settings = production_settings(url).model_copy(
            update={"rate_limit_per_minute": args.rate_limit}
        )
        app, token, entry_id, people = setup(settings)
        silence_app_logs()
        backend_cpu = postgres_backend_seconds(url) if args.backend == "postgresql" else lambda: 0.0
        try:
            measure(app, token, entry_id, people, args, backend_cpu)
        finally:
            app.state.engine.dispose()


if __name__ == "__main__":
    main()
