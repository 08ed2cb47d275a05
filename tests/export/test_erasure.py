"""DELETE /v1/me erases every row the account owns; only a pseudonymous audit trail remains."""

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, or_, select

from app.main import create_app
from app.models import metadata
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    list_all,
    register,
    share_with,
)
from tests.reminders.support import create_reminder

THERAPIST_READS = ("entries", "people", "summaries/mood-by-person", "export")
# Tables the diary below writes for its owner: proof that the counting finds stored rows.
WRITTEN_FOR_THE_OWNER = {
    "users", "people", "focus_areas", "focus_area_people", "entries", "entry_people",
    "entry_emotions", "therapy_sessions", "measures", "shares", "therapist_links",
    "audit_events", "login_sessions", "refresh_tokens", "login_failures", "change_log",
    "idempotency_keys", "reminders",
}  # fmt: skip


def owned_rows(app: FastAPI, account_id: str) -> dict[str, int]:
    """Rows per table that belong to the account: every table with an owner_id or client_id
    column (and the account's own row in users), read straight from the database."""
    account = uuid.UUID(account_id)
    found: dict[str, int] = {}
    with app.state.engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [table.c[name] for name in ("owner_id", "client_id") if name in table.c]
            if table.name == "users":
                columns.append(table.c.id)
            if not columns:
                continue
            found[table.name] = connection.execute(
                select(func.count())
                .select_from(table)
                .where(or_(*(column == account for column in columns)))
            ).scalar_one()
    return found


def archived_reads(app: FastAPI, therapist_id: str) -> list[dict[str, Any]]:
    archive = metadata.tables["audit_archive"]
    with app.state.engine.connect() as connection:
        rows = connection.execute(
            select(archive).where(archive.c.therapist_id == uuid.UUID(therapist_id))
        )
        return [dict(row._mapping) for row in rows]


def write_everything(client: TestClient, account: Account) -> None:
    """A row in every table a client can fill through the API."""
    mum = create_person(client, account, name="Mum", relationship="parent")
    area = create_focus_area(
        client, account, problem_area="grief", title="Dad", person_ids=[mum["id"]]
    )
    create_entry(
        client,
        account,
        focus_area_id=area["id"],
        people=[{"person_id": mum["id"], "quality": 1}],
        emotions=[{"label": "sad", "intensity": 6, "person_id": mum["id"]}],
    )
    create_entry(client, account, occurred_at="2026-11-21T08:00:00Z", private=True)
    create_measure(client, account)
    create_reminder(client, account)
    assert client.post("/v1/calendar-token", headers=account.headers).status_code == 201
    session = client.post(
        "/v1/sessions",
        json={"held_at": "2026-11-18T17:00:00Z", "number": 1},
        headers={**account.headers, "Idempotency-Key": f"session-{account.id}"},
    )
    assert session.status_code == 201, session.text
    failed = client.post(
        "/v1/auth/token", data={"username": account.email, "password": "not the password"}
    )
    assert failed.status_code == 401


@dataclass
class Erased:
    ana: Account  # erased
    bob: Account  # another client, left alone
    therapist: Account  # read Ana's and Bob's diaries
    ana_before: dict[str, int]
    bob_before: dict[str, int]
    bob_export: dict[str, Any]


@pytest.fixture(scope="module")
def erased(app: FastAPI) -> Iterator[Erased]:
    with TestClient(app, raise_server_exceptions=False) as http:
        ana, bob = register(http, name="Ana"), register(http, name="Bob")
        therapist = register(http, role="therapist", name="Dr Lee")
        for account in (ana, bob):
            write_everything(http, account)
            share_with(http, account, therapist, "full")
        for view in THERAPIST_READS:
            read = http.get(f"/v1/therapist/clients/{ana.id}/{view}", headers=therapist.headers)
            assert read.status_code == 200, read.text
        ana_before, bob_before = owned_rows(app, ana.id), owned_rows(app, bob.id)
        bob_export = export_without_time(http, bob)

        response = http.request(
            "DELETE", "/v1/me", json={"password": PASSWORD}, headers=ana.headers
        )
        assert response.status_code == 204, response.text
        yield Erased(ana, bob, therapist, ana_before, bob_before, bob_export)


def export_without_time(client: TestClient, account: Account) -> dict[str, Any]:
    response = client.get("/v1/export", headers=account.headers)
    assert response.status_code == 200, response.text
    doc = dict(response.json())
    doc.pop("exported_at")
    return doc


def test_no_table_holds_a_row_of_the_erased_account(app: FastAPI, erased: Erased) -> None:
    assert set(erased.ana_before) >= WRITTEN_FOR_THE_OWNER
    empty_before = {table for table, n in erased.ana_before.items() if n == 0}
    assert not WRITTEN_FOR_THE_OWNER & empty_before, "the diary under test wrote these rows"
    after = owned_rows(app, erased.ana.id)
    assert after == dict.fromkeys(erased.ana_before, 0)


def test_the_erased_accounts_tokens_are_refused(client: TestClient, erased: Erased) -> None:
    assert_problem(client.get("/v1/me", headers=erased.ana.headers), 401)
    assert_problem(client.get("/v1/entries", headers=erased.ana.headers), 401)
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": erased.ana.refresh_token})
    assert_problem(refreshed, 401)
    login = client.post("/v1/auth/token", data={"username": erased.ana.email, "password": PASSWORD})
    assert_problem(login, 401)


def test_the_therapists_link_to_the_erased_client_is_gone(
    client: TestClient, erased: Erased
) -> None:
    listed = list_all(client, erased.therapist, "/v1/therapist/clients")
    assert [c["client_id"] for c in listed] == [erased.bob.id]
    for view in THERAPIST_READS:
        read = client.get(
            f"/v1/therapist/clients/{erased.ana.id}/{view}", headers=erased.therapist.headers
        )
        assert_problem(read, 404)


def test_the_therapists_reads_survive_only_pseudonymously(app: FastAPI, erased: Erased) -> None:
    rows = archived_reads(app, erased.therapist.id)
    assert sorted(row["action"] for row in rows) == sorted(THERAPIST_READS)
    assert {row["outcome"] for row in rows} == {"ok"}
    assert {row["therapist_id"] for row in rows} == {uuid.UUID(erased.therapist.id)}
    assert all(row["erased_at"] is not None and row["at"] is not None for row in rows)
    pseudonyms = {row["client_pseudonym"] for row in rows}
    assert pseudonyms == {keyed_pseudonym(TEST_SECRET, erased.ana.id)}
    ana = uuid.UUID(erased.ana.id)
    spellings = {str(ana), ana.hex, str(ana).upper(), ana.hex.upper()}
    for row in rows:
        for value in row.values():
            assert value != ana
            assert not any(spelling in str(value) for spelling in spellings)


def keyed_pseudonym(secret: str, account_id: str) -> str:
    return hmac.new(secret.encode(), uuid.UUID(account_id).bytes, hashlib.sha256).hexdigest()


def test_the_pseudonym_is_keyed_with_the_services_secret(database_url: str, erased: Erased) -> None:
    """Not a plain hash of the id, which anyone holding the id could compute and look up."""
    ana = uuid.UUID(erased.ana.id)
    plain_hashes = {hashlib.sha256(spelling).hexdigest() for spelling in (
        ana.bytes, str(ana).encode(), ana.hex.encode())}  # fmt: skip
    assert keyed_pseudonym(TEST_SECRET, erased.ana.id) not in plain_hashes
    # The same kind of erasure under another SECRET_KEY: another pseudonym for that id.
    other_secret = "another-secret-key-that-is-long-enough-9876543210"
    other = create_app(make_settings(database_url, secret_key=other_secret))
    with TestClient(other) as http:
        cleo = register(http, name="Cleo")
        therapist = register(http, role="therapist", name="Dr Kay")
        share_with(http, cleo, therapist, "full")
        read = http.get(f"/v1/therapist/clients/{cleo.id}/entries", headers=therapist.headers)
        assert read.status_code == 200, read.text
        gone = http.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=cleo.headers)
        assert gone.status_code == 204, gone.text
    rows = archived_reads(other, therapist.id)
    other.state.engine.dispose()
    assert [row["client_pseudonym"] for row in rows] == [keyed_pseudonym(other_secret, cleo.id)]
    assert keyed_pseudonym(other_secret, cleo.id) != keyed_pseudonym(TEST_SECRET, cleo.id)


def test_another_clients_data_is_untouched(
    client: TestClient, app: FastAPI, erased: Erased
) -> None:
    assert owned_rows(app, erased.bob.id) == erased.bob_before
    assert export_without_time(client, erased.bob) == erased.bob_export
    read = client.get(
        f"/v1/therapist/clients/{erased.bob.id}/entries", headers=erased.therapist.headers
    )
    assert read.status_code == 200, read.text
    assert len(read.json()["items"]) == 1  # the shared one of his two entries


def test_the_wrong_password_erases_nothing(client: TestClient, app: FastAPI) -> None:
    cleo = register(client, name="Cleo")
    write_everything(client, cleo)
    before = owned_rows(app, cleo.id)
    assert before["entries"] == 2

    wrong = client.request(
        "DELETE", "/v1/me", json={"password": "not the password"}, headers=cleo.headers
    )
    assert_problem(wrong, 403)
    missing = client.request("DELETE", "/v1/me", json={}, headers=cleo.headers)
    assert_problem(missing, 422, "body.password")

    assert owned_rows(app, cleo.id) == before
    assert client.get("/v1/me", headers=cleo.headers).status_code == 200
    assert len(list_all(client, cleo, "/v1/entries")) == 2
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": cleo.refresh_token})
    assert refreshed.status_code == 200, refreshed.text


def test_an_account_whose_entries_name_people_can_be_erased(
    client: TestClient, app: FastAPI
) -> None:
    # The smallest diary with a person named in an entry (entry_people → people).
    dora = register(client, name="Dora")
    sam = create_person(client, dora)
    create_entry(client, dora, people=[{"person_id": sam["id"], "quality": 1}])
    response = client.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=dora.headers)
    assert response.status_code == 204, response.text
    assert set(owned_rows(app, dora.id).values()) == {0}
