"""Free text is unreadable in the database files, yet reads back intact through the API."""

import base64
import os
from pathlib import Path

import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.core.crypto import KeyRing
from app.core.field_encryption import install_field_encryption
from app.core.key_rotation import rewrite_all, to_active_key
from app.main import create_app
from tests.conftest import alembic_config, make_settings
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_person,
    register,
)

CANARY = "Canary-7f3a-ŝecret"
ENCRYPTED_COLUMNS = (
    ("entries", "event"),
    ("people", "name"),
    ("users", "display_name"),
    ("focus_areas", "title"),
    ("therapy_sessions", "notes"),
)


def write_canary_everywhere(client: TestClient, account: Account) -> dict[str, str]:
    """Every free-text field through the API; returns the ids written."""
    response = client.patch(
        "/v1/me", json={"display_name": f"{CANARY} me"}, headers=account.headers
    )
    assert response.status_code == 200
    person = create_person(client, account, name=f"{CANARY} name", notes=f"{CANARY} notes")
    focus = create_focus_area(
        client,
        account,
        problem_area="role_transition",
        title=f"{CANARY} title",
        description=f"{CANARY} description",
        goals=[f"{CANARY} goal"],
        from_role=f"{CANARY} from",
        to_role=f"{CANARY} to",
    )
    entry = create_entry(
        client,
        account,
        event=f"{CANARY} event",
        tags=[f"{CANARY}tag"[:40]],
        people=[{"person_id": person["id"], "quality": 1}],
        communication={
            field: f"{CANARY} {field}"
            for field in (
                "what_i_said",
                "what_they_said",
                "what_i_felt",
                "what_i_wanted",
                "what_happened",
                "what_i_could_try",
            )
        },
    )
    session = client.post(
        "/v1/sessions",
        json={"held_at": "2026-11-18T17:00:00Z", "number": 3, "notes": f"{CANARY} session"},
        headers={**account.headers, "Idempotency-Key": "canary-key"},
    )
    assert session.status_code == 201
    return {"person": person["id"], "focus": focus["id"], "entry": entry["id"],
            "session": session.json()["id"]}  # fmt: skip


def assert_reads_back(client: TestClient, account: Account, ids: dict[str, str]) -> None:
    assert client.get("/v1/me", headers=account.headers).json()["display_name"] == f"{CANARY} me"
    person = client.get(f"/v1/people/{ids['person']}", headers=account.headers).json()
    assert (person["name"], person["notes"]) == (f"{CANARY} name", f"{CANARY} notes")
    focus = client.get(f"/v1/focus-areas/{ids['focus']}", headers=account.headers).json()
    assert focus["goals"] == [f"{CANARY} goal"]
    assert focus["from_role"] == f"{CANARY} from"
    entry = client.get(f"/v1/entries/{ids['entry']}", headers=account.headers).json()
    assert entry["event"] == f"{CANARY} event"
    assert entry["communication"]["what_i_could_try"] == f"{CANARY} what_i_could_try"
    session = client.get(f"/v1/sessions/{ids['session']}", headers=account.headers).json()
    assert session["notes"] == f"{CANARY} session"
    summary = client.get("/v1/summaries/mood-by-person", headers=account.headers).json()
    assert summary["people"][0]["name"] == f"{CANARY} name"


def raw_bytes(database_url: str, backend: str) -> bytes:
    if backend == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(
            p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    dump = []
    with psycopg.connect(dsn) as connection:
        tables = connection.execute(
            "select tablename from pg_tables where schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            for row in connection.execute(f'select * from "{table}"'):  # noqa: S608 - own table names
                dump.append(repr(row).encode())
    return b"\n".join(dump)


def test_a_canary_in_every_free_text_field_is_nowhere_in_the_stored_data(
    client: TestClient, database_url: str, backend: str
) -> None:
    ana = register(client)
    ids = write_canary_everywhere(client, ana)
    stored = raw_bytes(database_url, backend)
    for needle in (CANARY, "Canary-7f3a"):
        for encoding in ("utf-8", "utf-16-le"):
            assert needle.encode(encoding) not in stored
    assert_reads_back(client, ana, ids)


def test_a_ciphertext_copied_into_another_row_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana = register(client)
    first = create_entry(client, ana, event=f"{CANARY} first")
    second = create_entry(client, ana, event="second")
    with app.state.engine.begin() as connection:
        stolen = connection.execute(
            text("select event from entries where id = :id"),
            {"id": _db_id(app, first["id"])},
        ).scalar_one()
        connection.execute(
            text("update entries set event = :event where id = :id"),
            {"event": stolen, "id": _db_id(app, second["id"])},
        )
    response = client.get(f"/v1/entries/{second['id']}", headers=ana.headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert CANARY not in response.text
    assert "first" not in response.text
    assert client.get(f"/v1/entries/{first['id']}", headers=ana.headers).status_code == 200


def _db_id(app: FastAPI, entry_id: str) -> str:
    # SQLite stores UUIDs as 32 hex digits, PostgreSQL as uuid.
    return entry_id.replace("-", "") if app.state.engine.dialect.name == "sqlite" else entry_id


@pytest.fixture
def rotating_database(backend: str, empty_database_factory: object) -> str:
    url = str(empty_database_factory(backend))  # type: ignore[operator]
    command.upgrade(alembic_config(url), "head")
    return url


def test_key_rotation_re_encrypts_every_row_and_the_old_key_can_go(
    backend: str, rotating_database: str
) -> None:
    old_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    new_key = base64.urlsafe_b64encode(os.urandom(32)).decode()

    def app_with(keys: str) -> FastAPI:
        return create_app(make_settings(rotating_database, encryption_keys=keys))

    old_app = app_with(f"old:{old_key}")
    with TestClient(old_app) as client:
        ana = register(client)
        ids = write_canary_everywhere(client, ana)
    old_app.state.engine.dispose()

    # The new key first (it encrypts), the old one still loaded (it decrypts).
    both = KeyRing.from_settings(
        make_settings(rotating_database, encryption_keys=f"new:{new_key},old:{old_key}")
    )
    install_field_encryption()
    engine = create_engine(rotating_database)
    with engine.begin() as connection:
        changed = rewrite_all(connection, to_active_key(both))
    assert min(changed["entries"], changed["people"], changed["users"]) >= 1
    with engine.connect() as connection:
        stored = [
            value
            for table, column in ENCRYPTED_COLUMNS
            for (value,) in connection.execute(text(f"select {column} from {table}"))  # noqa: S608
        ]
    assert stored
    assert all(value.startswith("v1.new.") for value in stored)
    engine.dispose()

    new_only = app_with(f"new:{new_key}")
    with TestClient(new_only) as client:
        assert_reads_back(client, ana, ids)
    new_only.state.engine.dispose()
