"""Free text is unreadable in the database files, yet reads back intact through the API; a
ciphertext is bound to where it was written; key rotation re-encrypts every ciphertext the
service stores, so the old key can go."""

import base64
import contextlib
import io
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, create_engine, select, update

from app import cli
from app.core.crypto import VERSION
from app.core.field_encryption import ENCRYPTED_FIELDS
from app.core.idempotency import REPLAYED_HEADERS
from app.core.settings import get_settings
from app.main import create_app
from app.models import metadata
from tests.conftest import TEST_SECRET, alembic_config, make_settings
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_person,
    create_session,
    register,
    share_with,
)

CANARY = "Canary-7f3a-ŝecret"
# Every (table, column) the encryption registry names: what rotation must cover.
REGISTERED_COLUMNS = [
    (model.__tablename__, field) for model, fields in ENCRYPTED_FIELDS.items() for field in fields
]
SESSION_POST = {"held_at": "2026-11-18T17:00:00Z", "number": 3, "notes": f"{CANARY} session"}
IDEMPOTENCY_KEY = "canary-key"


def post_session(client: TestClient, account: Account) -> Response:
    return client.post(
        "/v1/sessions",
        json=SESSION_POST,
        headers={**account.headers, "Idempotency-Key": IDEMPOTENCY_KEY},
    )


def write_canary_everywhere(
    client: TestClient, account: Account
) -> tuple[dict[str, str], Response]:
    """Every free-text field through the API, and a therapist's read (the access log keeps
    the therapist's name); returns the ids written and the answer to the session's POST."""
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
    session = post_session(client, account)
    assert session.status_code == 201
    therapist = register(client, role="therapist", name=f"{CANARY} therapist")
    share_with(client, account, therapist)
    read = client.get(f"/v1/therapist/clients/{account.id}/entries", headers=therapist.headers)
    assert read.status_code == 200, read.text
    return {"person": person["id"], "focus": focus["id"], "entry": entry["id"],
            "session": session.json()["id"]}, session  # fmt: skip


def assert_reads_back(client: TestClient, account: Account, ids: dict[str, str]) -> None:
    assert client.get("/v1/me", headers=account.headers).json()["display_name"] == f"{CANARY} me"
    person = client.get(f"/v1/people/{ids['person']}", headers=account.headers).json()
    assert (person["name"], person["notes"]) == (f"{CANARY} name", f"{CANARY} notes")
    focus = client.get(f"/v1/focus-areas/{ids['focus']}", headers=account.headers).json()
    assert (focus["title"], focus["description"]) == (f"{CANARY} title", f"{CANARY} description")
    assert focus["goals"] == [f"{CANARY} goal"]
    assert (focus["from_role"], focus["to_role"]) == (f"{CANARY} from", f"{CANARY} to")
    entry = client.get(f"/v1/entries/{ids['entry']}", headers=account.headers).json()
    assert entry["event"] == f"{CANARY} event"
    assert entry["tags"] == [f"{CANARY}tag"[:40]]
    assert entry["communication"]["what_i_could_try"] == f"{CANARY} what_i_could_try"
    session = client.get(f"/v1/sessions/{ids['session']}", headers=account.headers).json()
    assert session["notes"] == f"{CANARY} session"
    summary = client.get("/v1/summaries/mood-by-person", headers=account.headers).json()
    assert summary["people"][0]["name"] == f"{CANARY} name"
    log = client.get("/v1/access-log", headers=account.headers).json()
    assert [event["therapist_name"] for event in log["items"]] == [f"{CANARY} therapist"]


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


def stored_values(engine: Engine) -> dict[tuple[str, str], list[str]]:
    """Every non-null value of every registered column, as stored (bytes read as text)."""
    found: dict[tuple[str, str], list[str]] = {}
    with engine.connect() as connection:
        for table, column in REGISTERED_COLUMNS:
            values = connection.execute(select(metadata.tables[table].c[column])).scalars()
            found[table, column] = [
                v.decode() if isinstance(v, bytes) else v for v in values if v is not None
            ]
    return found


def test_a_canary_in_every_free_text_field_is_nowhere_in_the_stored_data(
    client: TestClient, database_url: str, backend: str
) -> None:
    ana = register(client)
    ids, _ = write_canary_everywhere(client, ana)
    stored = raw_bytes(database_url, backend)
    for needle in (CANARY, "Canary-7f3a"):
        for encoding in ("utf-8", "utf-16-le"):
            assert needle.encode(encoding) not in stored
    assert_reads_back(client, ana, ids)


# --- a ciphertext is bound to its table, column, owner and row ------------------------------


def move_ciphertext(
    app: FastAPI,
    source: tuple[str, str, dict[str, Any]],
    target: tuple[str, str, dict[str, Any]],
) -> None:
    """Copy a stored value with plain SQL (no ORM hooks): (table, column, key) to another."""

    def where(table: str, key: dict[str, Any]) -> list[Any]:
        return [metadata.tables[table].c[name] == value for name, value in key.items()]

    (table, column, key), (to_table, to_column, to_key) = source, target
    with app.state.engine.begin() as connection:
        stolen = connection.execute(
            select(metadata.tables[table].c[column]).where(*where(table, key))
        ).scalar_one()
        moved = connection.execute(
            update(metadata.tables[to_table])
            .where(*where(to_table, to_key))
            .values({to_column: stolen})
        )
        assert moved.rowcount == 1


def assert_fails_closed(response: Response, *foreign: str) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    for text in foreign:
        assert text not in response.text


def _key(account: Account, row_id: str) -> dict[str, Any]:
    return {"owner_id": uuid.UUID(account.id), "id": uuid.UUID(row_id)}


def test_a_ciphertext_copied_into_another_row_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana = register(client)
    first = create_entry(client, ana, event=f"{CANARY} first")
    second = create_entry(client, ana, event="second")
    move_ciphertext(
        app,
        ("entries", "event", _key(ana, first["id"])),
        ("entries", "event", _key(ana, second["id"])),
    )
    assert_fails_closed(client.get(f"/v1/entries/{second['id']}", headers=ana.headers), CANARY)
    assert client.get(f"/v1/entries/{first['id']}", headers=ana.headers).status_code == 200


def test_a_ciphertext_copied_into_another_column_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana = register(client)
    person = create_person(client, ana, name=f"{CANARY} name", notes="notes")
    key = _key(ana, person["id"])
    move_ciphertext(app, ("people", "name", key), ("people", "notes", key))
    assert_fails_closed(client.get(f"/v1/people/{person['id']}", headers=ana.headers), CANARY)


def test_a_ciphertext_copied_into_another_table_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana = register(client)
    # Client-chosen ids: a person and a session with one id, each with a `notes` column.
    shared_id = str(uuid.uuid4())
    create_person(client, ana, id=shared_id, notes=f"{CANARY} notes")
    create_session(client, ana, id=shared_id, notes="session notes")
    key = _key(ana, shared_id)
    move_ciphertext(app, ("people", "notes", key), ("therapy_sessions", "notes", key))
    assert_fails_closed(client.get(f"/v1/sessions/{shared_id}", headers=ana.headers), CANARY)


def test_a_ciphertext_copied_to_another_owners_row_with_the_same_id_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana, ben = register(client), register(client, name="Ben")
    entry = create_entry(client, ana, event=f"{CANARY} event")
    document = client.get("/v1/export", headers=ana.headers).json()
    imported = client.post("/v1/import", json=document, headers=ben.headers)
    assert imported.status_code == 200, imported.text
    move_ciphertext(
        app,
        ("entries", "event", _key(ana, entry["id"])),
        ("entries", "event", _key(ben, entry["id"])),
    )
    assert_fails_closed(client.get(f"/v1/entries/{entry['id']}", headers=ben.headers), CANARY)
    assert client.get(f"/v1/entries/{entry['id']}", headers=ana.headers).status_code == 200


def test_a_stored_answer_copied_to_another_idempotency_key_fails_closed(
    client: TestClient, app: FastAPI
) -> None:
    ana = register(client)
    sessions = [
        client.post(
            "/v1/sessions",
            json={"held_at": "2026-11-18T17:00:00Z", "number": number, "notes": notes},
            headers={**ana.headers, "Idempotency-Key": f"key-{number}"},
        )
        for number, notes in ((1, f"{CANARY} one"), (2, "two"))
    ]
    assert [answer.status_code for answer in sessions] == [201, 201]
    owner = uuid.UUID(ana.id)
    move_ciphertext(
        app,
        ("idempotency_keys", "body", {"owner_id": owner, "key": "key-1"}),
        ("idempotency_keys", "body", {"owner_id": owner, "key": "key-2"}),
    )
    retry = client.post(
        "/v1/sessions",
        json={"held_at": "2026-11-18T17:00:00Z", "number": 2, "notes": "two"},
        headers={**ana.headers, "Idempotency-Key": "key-2"},
    )
    assert_fails_closed(retry, CANARY)


# --- key rotation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotated:
    """A diary written under the old key, then `python -m app.cli rotate-keys` run."""

    url: str
    new_keys: str  # ENCRYPTION_KEYS without the old key
    account: Account
    ids: dict[str, str]
    before: dict[tuple[str, str], list[str]]
    first_answer: Response
    report: list[str]


@pytest.fixture(scope="module")
def rotated(backend: str, empty_database_factory: Callable[[str], str]) -> Iterator[Rotated]:
    url = empty_database_factory(backend)
    command.upgrade(alembic_config(url), "head")
    old_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    new_key = base64.urlsafe_b64encode(os.urandom(32)).decode()

    old_app = create_app(make_settings(url, encryption_keys=f"old:{old_key}"))
    with TestClient(old_app) as client:
        ana = register(client)
        ids, first_answer = write_canary_everywhere(client, ana)
    old_app.state.engine.dispose()
    engine = create_engine(url)
    before = stored_values(engine)

    # The documented rotation: the new key first (it encrypts), the old one still loaded.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("SECRET_KEY", TEST_SECRET)
        env.setenv("ENCRYPTION_KEYS", f"new:{new_key},old:{old_key}")
        get_settings.cache_clear()
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                assert cli.main(["rotate-keys"]) == 0
        finally:
            get_settings.cache_clear()
    report = printed.getvalue().splitlines()
    yield Rotated(url, f"new:{new_key}", ana, ids, before, first_answer, report)
    engine.dispose()


def test_rotation_leaves_no_value_of_any_registered_column_on_the_old_key(
    rotated: Rotated,
) -> None:
    # The diary wrote every registered column, or the check below would prove nothing.
    assert [column for column, values in rotated.before.items() if not values] == []
    assert {value.split(".")[1] for values in rotated.before.values() for value in values} == {
        "old"
    }
    engine = create_engine(rotated.url)
    after = stored_values(engine)
    engine.dispose()
    assert {column: len(values) for column, values in after.items()} == {
        column: len(values) for column, values in rotated.before.items()
    }
    on_other_keys = {
        column: [value[:8] for value in values if not value.startswith(f"{VERSION}.new.")]
        for column, values in after.items()
    }
    assert on_other_keys == {column: [] for column in REGISTERED_COLUMNS}
    # The CLI reports every registered table, with the number of values it re-encrypted.
    per_table = Counter[str]()
    for (table, _), values in rotated.before.items():
        per_table[table] += len(values)
    assert [line for line in rotated.report if line.startswith("re-encrypted")] == [
        f"re-encrypted {count} value(s) in {table}" for table, count in sorted(per_table.items())
    ]


@pytest.fixture(scope="module")
def new_key_only(rotated: Rotated) -> Iterator[TestClient]:
    app = create_app(make_settings(rotated.url, encryption_keys=rotated.new_keys))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def test_after_rotation_the_new_key_alone_reads_every_encrypted_resource(
    rotated: Rotated, new_key_only: TestClient
) -> None:
    assert_reads_back(new_key_only, rotated.account, rotated.ids)


def test_after_rotation_an_idempotent_retry_replays_the_first_answer(
    rotated: Rotated, new_key_only: TestClient
) -> None:
    retry = post_session(new_key_only, rotated.account)
    assert retry.status_code == 201, retry.text
    assert retry.content == rotated.first_answer.content
    assert retry.headers["idempotent-replayed"] == "true"
    for name in REPLAYED_HEADERS:
        assert retry.headers.get(name) == rotated.first_answer.headers.get(name), name
