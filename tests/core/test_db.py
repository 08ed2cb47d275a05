"""The engine: PostgreSQL's pool replaces a connection that died while idle; SQLite's
writers queue on a lock file."""

import asyncio
import fcntl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.core.database import postgresql
from app.core.database.engine import create_db_engine
from app.main import create_app
from tests.conftest import POSTGRES_ADMIN_DSN, alembic_config, make_settings
from tests.factories import assert_problem, entry_body, register


@pytest.fixture
def own_postgres_database(empty_database_factory: object) -> str:
    """A database of its own: killing its connections must not touch other tests' pools."""
    url = str(empty_database_factory("postgresql"))  # type: ignore[operator]
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture
def postgres_app(own_postgres_database: str) -> Iterator[FastAPI]:
    application = create_app(make_settings(own_postgres_database))
    yield application
    application.state.engine.dispose()


def terminate_backends(database_url: str) -> int:
    """End every server process of this database, as a server restart would."""
    name = database_url.rsplit("/", 1)[-1]
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return len(rows)


def test_a_connection_that_died_while_idle_is_replaced_before_use(
    postgres_app: FastAPI, own_postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(postgres_app, raise_server_exceptions=False) as client:
        account = register(client)
        assert client.get("/v1/entries", headers=account.headers).status_code == 200
        # Every pooled connection now counts as idle long enough to be pinged first.
        monkeypatch.setattr(postgresql, "IDLE_BEFORE_PING_SECONDS", 0.0)
        assert terminate_backends(own_postgres_database) >= 1

        response = client.get("/v1/entries", headers=account.headers)

        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}


def test_a_connection_that_died_unnoticed_costs_one_503_and_the_pool_recovers(
    postgres_app: FastAPI, own_postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(postgres_app, raise_server_exceptions=False) as client:
        account = register(client)
        assert client.get("/v1/entries", headers=account.headers).status_code == 200
        monkeypatch.setattr(postgresql, "IDLE_BEFORE_PING_SECONDS", 3600.0)  # no ping: used as is
        assert terminate_backends(own_postgres_database) >= 1

        failed = client.get("/v1/entries", headers=account.headers)
        retried = client.get("/v1/entries", headers=account.headers)

        body = assert_problem(failed, 503)
        assert failed.headers["retry-after"] == "1"
        assert "postgres" not in failed.text.lower()  # no driver message leaks out
        assert body["detail"] == "The database cannot be reached; retry shortly"
        assert retried.status_code == 200, retried.text


# --- SQLite: writers queue on a lock file -----------------------------------------------


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[tuple[FastAPI, Path]]:
    database = tmp_path / "diary.db"
    url = f"sqlite:///{database}"
    command.upgrade(alembic_config(url), "head")
    application = create_app(make_settings(url))
    yield application, database
    application.state.engine.dispose()


def test_sqlite_writers_wait_for_the_write_lock_and_readers_do_not(
    sqlite_app: tuple[FastAPI, Path],
) -> None:
    application, database = sqlite_app
    client = TestClient(application, raise_server_exceptions=False)
    account = register(client)
    written: dict[str, Any] = {}

    def write() -> None:
        with TestClient(application, raise_server_exceptions=False) as writer:
            written["response"] = writer.post(
                "/v1/entries", json=entry_body(event="Queued"), headers=account.headers
            )

    with (database.parent / f"{database.name}.write-lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another worker's writer would hold it
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive(), "a write went ahead while another writer held the lock"
        # Readers never queue behind writers.
        listed = client.get("/v1/entries", headers=account.headers)
        assert listed.status_code == 200
        assert listed.json()["items"] == []
        fcntl.flock(lock, fcntl.LOCK_UN)

    writer.join(timeout=10)
    assert not writer.is_alive()
    assert written["response"].status_code == 201, written["response"].text
    listed = client.get("/v1/entries", headers=account.headers).json()["items"]
    assert [entry["event"] for entry in listed] == ["Queued"]


def test_sqlite_concurrent_writes_all_land(sqlite_app: tuple[FastAPI, Path]) -> None:
    application, _ = sqlite_app
    client = TestClient(application, raise_server_exceptions=False)
    account = register(client)

    def write(n: int) -> int:
        with TestClient(application, raise_server_exceptions=False) as writer:
            body = entry_body(event=f"Entry {n}")
            return writer.post("/v1/entries", json=body, headers=account.headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write, range(24)))

    assert statuses == [201] * 24
    listed = client.get("/v1/entries?limit=100", headers=account.headers).json()["items"]
    assert sorted(entry["event"] for entry in listed) == sorted(f"Entry {n}" for n in range(24))


def test_sqlite_more_concurrent_requests_than_pooled_connections_all_complete(
    sqlite_app: tuple[FastAPI, Path],
) -> None:
    """Reads take their connection on the event loop and keep it until the response is
    sent: a pool that ran dry must not block the loop (and with it every request that would
    give a connection back)."""
    application, _ = sqlite_app
    account = register(TestClient(application, raise_server_exceptions=False))
    concurrent = 3 * (application.state.engine.pool.size() + 5)

    async def slow_client(scope: Scope, receive: Receive, send: Send) -> None:
        async def slow_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(0.05)  # the request keeps its connection meanwhile
            await send(message)

        await application(scope, receive, slow_send)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=slow_client)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=account.headers
        ) as client:
            requests = [
                client.post("/v1/entries", json=entry_body())
                if n % 4 == 0
                else client.get("/v1/entries")
                for n in range(concurrent)
            ]
            return [response.status_code for response in await asyncio.gather(*requests)]

    # In a thread of its own: a blocked loop must fail the test, not hang it.
    outcome: dict[str, list[int]] = {}
    runner = threading.Thread(target=lambda: outcome.update(statuses=anyio.run(burst)))
    runner.daemon = True
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the event loop blocked on the connection pool"
    statuses = outcome["statuses"]
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == len(range(0, concurrent, 4))


def test_an_in_memory_sqlite_database_still_gets_an_engine() -> None:
    """`sqlite:///:memory:` (used to import the app without a database) has a pool of its
    own kind: the file database's pool settings must not be forced on it."""
    engine = create_db_engine(make_settings("sqlite:///:memory:"))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        engine.dispose()
