"""The engine's pool on PostgreSQL: a connection that died while idle is replaced, not used."""

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core import db
from app.main import create_app
from tests.conftest import POSTGRES_ADMIN_DSN, alembic_config, make_settings
from tests.factories import register


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
        monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
        assert terminate_backends(own_postgres_database) >= 1

        response = client.get("/v1/entries", headers=account.headers)

        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}
