"""Crash safety: SIGKILL the server in the middle of a burst of writes, restart, retry.

Every write the client saw acknowledged must be there, and every Idempotency-Key must end
up as exactly one entry, however the crash cut the requests.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command

from tests.conftest import (
    ROOT,
    TEST_SECRET,
    alembic_config,
    create_postgres_database,
    drop_postgres_database,
)
from tests.factories import PASSWORD, entry_body

REQUESTS = 200
KILL_AFTER = 60  # answered requests
THREADS = 8
STARTUP_TIMEOUT = 30.0
# A request cut by the crash may be refused as "still being processed" (409 + Retry-After)
# until the server notices that nobody is processing it; the retries wait that long at most.
RETRY_DEADLINE = 120.0
# How long a key cut by the crash may stay refused after the restart.
RECOVERY_LIMIT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`uvicorn app.main:app` as a separate process, on 127.0.0.1 only."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self) -> None:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "ENVIRONMENT": "test",
            "SECRET_KEY": TEST_SECRET,
            # Like the in-process test app: one account sends ~500 requests a minute here.
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server did not start within {STARTUP_TIMEOUT} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no rollback, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        url, name = create_postgres_database()  # skips (or fails under CI) like conftest
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        if name is not None:
            drop_postgres_database(name)


def sign_up(http: httpx.Client) -> dict[str, str]:
    email = f"crash-{uuid.uuid4().hex[:10]}@example.org"
    registered = http.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "role": "client", "display_name": "Ana"},
    )
    assert registered.status_code == 201, registered.text
    tokens = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def all_entries(http: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    for _ in range(REQUESTS):
        page = http.get("/v1/entries", params=params, headers=headers)
        assert page.status_code == 200, page.text
        entries.extend(page.json()["items"])
        if page.json()["next_cursor"] is None:
            return entries
        params["cursor"] = page.json()["next_cursor"]
    raise AssertionError("the entry list never ended")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_server_loses_no_acknowledged_write_and_duplicates_none(
    backend: str, tmp_path: Path
) -> None:
    keys = [f"crash-{i:03d}-{uuid.uuid4().hex[:8]}" for i in range(REQUESTS)]
    bodies = {key: entry_body(event=f"Written under key {key}", tags=[key]) for key in keys}

    with fresh_database(backend, tmp_path) as database_url:
        server = Server(database_url, tmp_path / "server.log")
        try:
            server.start()
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                headers = sign_up(http)

                # --- a burst of writes, cut by SIGKILL after KILL_AFTER answers -----------
                answers: dict[str, httpx.Response | None] = {}
                answered = threading.Event()
                lock = threading.Lock()

                def send(key: str) -> None:
                    try:
                        response: httpx.Response | None = http.post(
                            "/v1/entries",
                            json=bodies[key],
                            headers={**headers, "Idempotency-Key": key},
                        )
                    except httpx.TransportError:
                        response = None  # no answer: the client does not know what happened
                    with lock:
                        answers[key] = response
                        if sum(r is not None for r in answers.values()) >= KILL_AFTER:
                            answered.set()

                with ThreadPoolExecutor(max_workers=THREADS) as pool:
                    burst = [pool.submit(send, key) for key in keys]
                    assert answered.wait(timeout=120), f"no {KILL_AFTER} answers in time"
                    server.kill()
                    for future in burst:
                        future.result(timeout=30)

            acknowledged = {k: r for k, r in answers.items() if r is not None}
            unanswered = [k for k, r in answers.items() if r is None]
            assert len(acknowledged) + len(unanswered) == REQUESTS
            assert [r.status_code for r in acknowledged.values()] == [201] * len(acknowledged), [
                r.text for r in acknowledged.values() if r.status_code != 201
            ]
            assert unanswered, "the crash cut no request: the test proved nothing"

            # --- restart on the same database and retry what got no answer --------------
            server.start()
            restarted = time.monotonic()
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                final: dict[str, httpx.Response] = dict(acknowledged)
                refused_for: dict[str, float] = {}
                pending = list(unanswered)
                deadline = restarted + RETRY_DEADLINE
                while pending and time.monotonic() < deadline:
                    waiting = []
                    for key in pending:
                        retry = http.post(
                            "/v1/entries",
                            json=bodies[key],
                            headers={**headers, "Idempotency-Key": key},
                        )
                        if retry.status_code == 409:
                            assert int(retry.headers["retry-after"]) >= 1
                            waiting.append(key)
                            refused_for[key] = time.monotonic() - restarted
                            continue
                        assert retry.status_code == 201, retry.text
                        final[key] = retry
                    pending = waiting
                    if pending:
                        time.sleep(1)
                assert pending == [], f"still refused {RETRY_DEADLINE} s after the restart"

                # --- what the diary holds ---------------------------------------------
                entries = all_entries(http, headers)
                per_key = Counter(tag for entry in entries for tag in entry["tags"])
                assert sorted(per_key) == sorted(keys), "a write is missing or was invented"
                assert [k for k, n in per_key.items() if n > 1] == [], "a write was duplicated"
                assert len(entries) == REQUESTS
                by_id = {entry["id"]: entry for entry in entries}
                for key, response in final.items():
                    entry = by_id.get(response.json()["id"])
                    assert entry is not None, f"the write acknowledged for {key} is gone"
                    assert entry["tags"] == [key]
                    assert entry["event"] == bodies[key]["event"]

                # Sending everything once more replays each first answer, writes nothing.
                def resend(key: str) -> httpx.Response:
                    return http.post(
                        "/v1/entries", json=bodies[key], headers={**headers, "Idempotency-Key": key}
                    )

                with ThreadPoolExecutor(max_workers=THREADS) as pool:
                    for key, again in zip(keys, pool.map(resend, keys), strict=True):
                        assert again.status_code == 201, again.text
                        assert again.headers.get("idempotent-replayed") == "true"
                        assert again.json()["id"] == final[key].json()["id"]
                assert len(all_entries(http, headers)) == REQUESTS
        finally:
            server.kill()

    # Safety held. Liveness: a request cut by the crash is not refused for long afterwards.
    slowest = max(refused_for.values(), default=0.0)
    assert slowest <= RECOVERY_LIMIT, (
        f"after the restart, {len(refused_for)} key(s) cut by the crash were refused as "
        f"'still being processed' (409) for {slowest:.0f} s, though no process held them"
    )
