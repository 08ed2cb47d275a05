"""What field encryption costs: create and list latency with and without it, side by side.

Two servers on two fresh databases (SQLite, then PostgreSQL): the real app and
bench/plaintext_app.py (the same app with the encryption hooks removed). Sequential
requests, interleaved in rounds so that machine noise hits both alike; medians reported.

    .venv/bin/python bench/encryption_cost.py [--db sqlite|postgresql|both] [--requests 300]
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    DEFAULT_PG_URL,
    Server,
    expect,
    fresh_database,
    http,
    migrate,
    start_server,
    stop_server,
)

ROUND = 25
ENTRY = {
    "occurred_at": "2026-11-20T18:30:00+00:00",
    "mood": 4,
    "event": "Talked with my sister about the move; she listened and I felt less alone.",
    "event_type": "conversation",
    "tags": ["family", "move"],
    "emotions": [{"label": "relieved", "intensity": 6}, {"label": "anxious", "intensity": 3}],
    "communication": {
        "what_i_said": "I am scared of starting over.",
        "what_i_could_try": "Call her weekly.",
    },
}


def login(server: Server) -> str:
    body = {"email": "bench@example.org", "password": "bench password 123", "display_name": "B"}
    status, _, created = http(server, "POST", "/v1/auth/register", json_body=body)
    expect(status, 201, created, "register")
    status, _, tokens = http(
        server, "POST", "/v1/auth/token",
        form={"username": body["email"], "password": body["password"]},
    )  # fmt: skip
    expect(status, 200, tokens, "login")
    return str(tokens["access_token"])


def timed(server: Server, token: str, method: str, path: str, body: object = None) -> float:
    started = time.perf_counter()
    status, _, answer = http(server, method, path, json_body=body, token=token)
    elapsed = (time.perf_counter() - started) * 1000
    expect(status, 201 if method == "POST" else 200, answer, f"{method} {path}")
    return elapsed


def measure(kind: str, requests: int, pg_url: str) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        servers: dict[str, tuple[Server, str]] = {}
        for name, module in (
            ("encrypted", "app.main:app"),
            ("plaintext", "bench.plaintext_app:app"),
        ):
            url = stack.enter_context(
                fresh_database(kind, Path(work), pg_url, prefix=f"enc_{name}")
            )
            env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "production",
                   "SECRET_KEY": "bench-" + "s" * 40, "RATE_LIMIT_PER_MINUTE": "0"}  # fmt: skip
            migrate(env)
            server = start_server(f"{kind}-{name}", module, env, None)
            stack.callback(stop_server, server)
            servers[name] = (server, login(server))
        samples: dict[str, dict[str, list[float]]] = {
            n: {"create": [], "list 50": []} for n in servers
        }
        for _ in range(requests // ROUND):
            for name, (server, token) in servers.items():
                for _ in range(ROUND):
                    samples[name]["create"].append(
                        timed(server, token, "POST", "/v1/entries", ENTRY)
                    )
                for _ in range(ROUND):
                    samples[name]["list 50"].append(
                        timed(server, token, "GET", "/v1/entries?limit=50")
                    )
        return {
            name: {op: statistics.median(values) for op, values in ops.items()}
            for name, ops in samples.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    lines = ["| database | operation | encrypted (ms, median) | plaintext (ms, median) | ratio |",
             "|---|---|---|---|---|"]  # fmt: skip
    for kind in kinds:
        result = measure(kind, args.requests, args.pg_url)
        for op in ("create", "list 50"):
            enc, plain = result["encrypted"][op], result["plaintext"][op]
            lines.append(f"| {kind} | {op} | {enc:.2f} | {plain:.2f} | {enc / plain:.2f} |")
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "encryption_cost.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
