"""CPU per request of the hot endpoints, in process, for quick A/B runs of the request path.

    .venv/bin/python bench/request_costs.py [--backend sqlite|postgresql] [--rounds 5]
        [--requests 500] [--entries 300] [--only healthz,read,list50,create]

Builds a fresh database (`alembic upgrade head` with the migrations of the checkout under
test, as production does), the service's app with production settings, and one client
with `--entries` imported entries (300 by default), then sends requests straight through
the ASGI app (no uvicorn, no socket), one at a time, from one event loop with the app's
own threadpool. The targets (`--only`, comma-separated; the first four by default):
`healthz` (`/healthz`), `read` (`GET /v1/entries/{id}`), `list50` (a 50-entry list),
`create` (`POST /v1/entries`, the body of bench/run.py's load test), `timeline`
(`GET /v1/summaries/mood-timeline?bucket=week`) and `by_person`
(`GET /v1/summaries/mood-by-person`), answered as an app that asks again is answered (the
summary kept until the diary changes), and `timeline_cold` and `by_person_cold`, computed
every time. The summaries' figures are quoted for a 500-entry client: `--entries 500
--only timeline_cold,by_person_cold,timeline,by_person` (creates add entries, so measure
those apart). PostgreSQL is VACUUM ANALYZEd after the import, as autovacuum would do and as
bench/run.py does (without statistics, mood-by-person's plan cost ~15× the database CPU).
The access log is written, to /dev/null, as the benchmark's servers write it.

Each selected target is warmed up with 20 requests; then each round times every one in
turn: `--requests` of them, a fifth for list50 and create, a twenty-fifth for the
summaries. The figures are the medians over rounds of the process CPU per request (all
threads; on PostgreSQL plus its backends' CPU), the steadier figure on a shared machine,
and of the wall time. For counts that do not depend on the machine's load at all, run it
under `valgrind --tool=callgrind --instr-atstart=no` with REQUEST_COSTS_CALLGRIND=1,
`--rounds 1 --only <one target>`: "Collected" ÷ requests is the instructions per request
of this process. Run it from another checkout (`cd /tmp/old && python
/work/main/bench/request_costs.py`) to compare code: it imports `app` from the current
directory and migrates with that checkout's migrations.
"""

import argparse
import logging
import os
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
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from bench import common, seed

CHECKOUT = Path(sys.modules["app"].__path__[0]).resolve().parent  # the checkout under test
PEOPLE = 12
Call = Callable[[], Awaitable[int]]
SUMMARIES = {
    "timeline": "/v1/summaries/mood-timeline?bucket=week",
    "by_person": "/v1/summaries/mood-by-person",
}
TARGETS = ("healthz", "read", "list50", "create", *SUMMARIES, *(f"{n}_cold" for n in SUMMARIES))


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


def production_settings(database_url: str, rate_limit: int) -> Settings:
    """As production runs, with a fresh 64-character SECRET_KEY, after `alembic upgrade
    head` with the migrations of the checkout under test."""
    secret_key = secrets.token_urlsafe(48)
    env = dict(os.environ, DATABASE_URL=database_url, ENVIRONMENT="production")
    common.migrate(env | {"SECRET_KEY": secret_key}, CHECKOUT)
    return Settings(
        environment="production",
        database_url=database_url,
        secret_key=secret_key,
        rate_limit_per_minute=rate_limit,
        access_token_minutes=60,
    )


def setup(settings: Settings, entries: int) -> tuple[Any, str, str, list[str]]:
    app = create_app(settings)
    # The app logs one JSON line per request on stderr; to /dev/null, as the servers run.
    for handler in logging.getLogger("app").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the process's life
    with TestClient(app) as client:
        bench = seed.seed_client(client, "bench", people=PEOPLE, entries=entries, days=200, seed=7)
        client.headers["Authorization"] = f"Bearer {bench.token}"
        entry_id = client.get("/v1/entries?limit=1").json()["items"][0]["id"]
        people = [p["id"] for p in client.get("/v1/people").json()["items"]]
    return app, bench.token, entry_id, people


def instrument(state: str) -> None:
    """Under `valgrind --tool=callgrind --instr-atstart=no`, count only the timed requests:
    instruction counts do not depend on what else the machine is doing."""
    if os.environ.get("REQUEST_COSTS_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


def measure(app: Any, token: str, entry_id: str, people: list[str], args: Any, backend_cpu: Any):
    counter = iter(range(10**9))

    async def create() -> int:
        body = seed.create_body(people[0], people[1], next(counter))
        return await asgi_call(app, "POST", "/v1/entries", token, body)()

    kept = getattr(app.state, "summary_answers", None)  # None: an app that keeps no answers
    capacity = getattr(app.state.settings, "summary_answers_mb", 0) * 1024 * 1024

    def computed(call: Call) -> Call:
        """The summary computed: the answers the app keeps (if it keeps any) dropped first."""

        async def cold() -> int:
            if kept is not None:
                app.state.summary_answers = type(kept)(capacity)
            return await call()

        return cold

    summaries = {name: asgi_call(app, "GET", path, token) for name, path in SUMMARIES.items()}
    targets: dict[str, Call] = {
        "healthz": asgi_call(app, "GET", "/healthz", None),
        "read": asgi_call(app, "GET", f"/v1/entries/{entry_id}", token),
        "list50": asgi_call(app, "GET", "/v1/entries?limit=50", token),
        "create": create,
        **summaries,
        **{f"{name}_cold": computed(call) for name, call in summaries.items()},
    }
    share = {"list50": 5, "create": 5} | {name: 25 for name in targets if name in TARGETS[4:]}
    results: dict[str, tuple[list[float], list[float], list[float]]] = {
        k: ([], [], []) for k in targets if k in args.only
    }

    async def run() -> None:
        for name in results:  # warm-up
            for _ in range(20):
                assert await targets[name]() == (201 if name == "create" else 200), name
        for _ in range(args.rounds):
            for name in results:
                call = targets[name]
                n = max(1, args.requests // share.get(name, 1))
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
    parser.add_argument(
        "--requests",
        type=int,
        default=500,
        help="per round (list50, create: a fifth; summaries: a 25th)",
    )
    parser.add_argument("--entries", type=int, default=300, help="the client's imported entries")
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="RATE_LIMIT_PER_MINUTE (0: the limiter off)"
    )
    parser.add_argument(
        "--only", default="healthz,read,list50,create", type=lambda v: set(v.split(","))
    )
    args = parser.parse_args()
    if not args.only <= set(TARGETS):
        parser.error(f"--only: unknown {', '.join(sorted(args.only - set(TARGETS)))}")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with (
        tempfile.TemporaryDirectory() as workdir,
        common.fresh_database(args.backend, Path(workdir), args.pg_url, "costs") as url,
    ):
        url = url.replace("postgresql://", "postgresql+psycopg://")
        settings = production_settings(url, args.rate_limit)
        app, token, entry_id, people = setup(settings, args.entries)
        common.vacuum_like_autovacuum(url)  # PostgreSQL: as autovacuum would after the import
        postgres = args.backend == "postgresql"
        backend_cpu = common.postgres_backend_seconds(url) if postgres else lambda: 0.0
        try:
            measure(app, token, entry_id, people, args, backend_cpu)
        finally:
            app.state.engine.dispose()


if __name__ == "__main__":
    main()
