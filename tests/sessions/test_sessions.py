"""Therapy sessions: CRUD with ETags, phase defaults from the number, unique numbers."""

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import Account, assert_problem, create_session, register, session_body


@pytest.fixture
def ana(client: TestClient) -> Account:
    return register(client)


@pytest.fixture(scope="module")
def shared(app: FastAPI) -> Iterator[Account]:
    """One account for the phase tests: each uses its own session number (1, 2, 3, 4, …)."""
    with TestClient(app) as client:
        yield register(client, name="Shared")


def url(session: dict[str, Any]) -> str:
    return f"/v1/sessions/{session['id']}"


def patch(client: TestClient, account: Account, session: dict[str, Any], etag: str | None,
          **body: Any) -> Any:  # fmt: skip
    headers = account.headers if etag is None else {**account.headers, "If-Match": etag}
    return client.patch(url(session), json=body, headers=headers)


def test_create_read_update_delete(client: TestClient, ana: Account) -> None:
    response = client.post(
        "/v1/sessions",
        json={"held_at": "2026-11-18T18:00:00+01:00", "number": 5, "notes": "Role play"},
        headers=ana.headers,
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    created = response.json()
    uuid.UUID(created["id"])
    assert created["held_at"] == "2026-11-18T17:00:00Z"
    assert (created["number"], created["phase"], created["notes"]) == (5, "middle", "Role play")
    assert created["version"] == 1
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    assert "owner_id" not in created

    fetched = client.get(url(created), headers=ana.headers)
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json() == created

    changed = patch(client, ana, created, '"1"', held_at="2026-11-19T17:00:00Z", notes=None)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert (body["held_at"], body["notes"], body["version"]) == ("2026-11-19T17:00:00Z", None, 2)
    assert (body["number"], body["phase"]) == (5, "middle")
    assert client.get(url(created), headers=ana.headers).json() == body

    deleted = client.delete(url(created), headers={**ana.headers, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert_problem(client.get(url(created), headers=ana.headers), 404)
    assert client.get("/v1/sessions", headers=ana.headers).json()["items"] == []


def test_list_is_latest_first_with_cursor_pages(client: TestClient, ana: Account) -> None:
    days = ["2026-11-04", "2026-11-18", "2026-11-11"]
    made = [
        create_session(client, ana, held_at=f"{day}T17:00:00Z", number=n)
        for n, day in enumerate(days, start=1)
    ]
    first = client.get("/v1/sessions", params={"limit": 2}, headers=ana.headers).json()
    assert [s["number"] for s in first["items"]] == [2, 3]
    assert first["next_cursor"]
    rest = client.get(
        "/v1/sessions", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ana.headers
    ).json()
    assert [s["id"] for s in rest["items"]] == [made[0]["id"]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("number", "phase"),
    [
        (1, "initial"),
        (4, "initial"),
        (5, "middle"),
        (12, "middle"),
        (13, "termination"),
        (16, "termination"),
        (100, "termination"),
    ],
)
def test_phase_defaults_from_the_number(
    client: TestClient, shared: Account, number: int, phase: str
) -> None:
    created = create_session(client, shared, number=number)
    assert created["phase"] == phase
    assert client.get(url(created), headers=shared.headers).json()["phase"] == phase


@pytest.mark.parametrize(
    ("number", "phase"), [(2, "termination"), (8, "initial"), (14, "middle"), (6, "middle")]
)
def test_an_explicit_phase_is_honoured(
    client: TestClient, shared: Account, number: int, phase: str
) -> None:
    created = create_session(client, shared, number=number, phase=phase)
    assert created["phase"] == phase
    assert client.get(url(created), headers=shared.headers).json()["phase"] == phase


def test_patching_the_phase(client: TestClient, shared: Account) -> None:
    created = create_session(client, shared, number=3)
    response = patch(client, shared, created, '"1"', phase="middle")
    assert response.status_code == 200, response.text
    assert (response.json()["number"], response.json()["phase"]) == (3, "middle")


def test_a_duplicate_number_is_409(client: TestClient, ana: Account) -> None:
    create_session(client, ana, number=3, held_at="2026-11-04T17:00:00Z")
    response = client.post(
        "/v1/sessions",
        json=session_body(number=3, held_at="2026-11-11T17:00:00Z"),
        headers=ana.headers,
    )
    assert_problem(response, 409)
    listed = client.get("/v1/sessions", headers=ana.headers).json()["items"]
    assert [(s["number"], s["held_at"]) for s in listed] == [(3, "2026-11-04T17:00:00Z")]


def test_patching_to_a_taken_number_is_409(client: TestClient, ana: Account) -> None:
    create_session(client, ana, number=1)
    second = create_session(client, ana, number=2)
    assert_problem(patch(client, ana, second, '"1"', number=1), 409)
    fetched = client.get(url(second), headers=ana.headers).json()
    assert (fetched["number"], fetched["version"]) == (2, 1)


def test_numbers_are_unique_per_client_only(client: TestClient, ana: Account) -> None:
    bo = register(client)
    create_session(client, ana, number=1)
    assert create_session(client, bo, number=1)["number"] == 1


def test_a_reused_client_id_is_409(client: TestClient, ana: Account) -> None:
    session_id = str(uuid.uuid4())
    created = create_session(client, ana, id=session_id, number=1)
    assert created["id"] == session_id
    response = client.post(
        "/v1/sessions", json=session_body(id=session_id, number=2), headers=ana.headers
    )
    assert_problem(response, 409)


def test_patch_needs_if_match(client: TestClient, ana: Account) -> None:
    created = create_session(client, ana, number=1)
    assert_problem(patch(client, ana, created, None, notes="x"), 428)
    stale = patch(client, ana, created, '"2"', notes="x")
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert_problem(patch(client, ana, created, 'W/"0", "5"', notes="x"), 412)
    assert client.get(url(created), headers=ana.headers).json()["notes"] is None

    anything = patch(client, ana, created, "*", notes="first")
    assert anything.status_code == 200, anything.text
    assert anything.json()["version"] == 2
    listed = patch(client, ana, created, '"9", "2"', notes="second")
    assert listed.status_code == 200, listed.text
    assert (listed.json()["notes"], listed.json()["version"]) == ("second", 3)
    # The ETag read before the last change is stale now.
    assert_problem(patch(client, ana, created, '"2"', notes="third"), 412)


def test_delete_needs_if_match(client: TestClient, ana: Account) -> None:
    created = create_session(client, ana, number=1)
    assert_problem(client.delete(url(created), headers=ana.headers), 428)
    assert_problem(client.delete(url(created), headers={**ana.headers, "If-Match": '"3"'}), 412)
    assert client.get(url(created), headers=ana.headers).status_code == 200
    deleted = client.delete(url(created), headers={**ana.headers, "If-Match": "*"})
    assert deleted.status_code == 204
    assert_problem(client.get(url(created), headers=ana.headers), 404)


def test_another_clients_session_is_404(client: TestClient, ana: Account) -> None:
    bo = register(client)
    theirs = create_session(client, bo, number=1, notes="Bo's")
    missing = {"id": str(uuid.uuid4())}
    for target in (theirs, missing):
        assert_problem(client.get(url(target), headers=ana.headers), 404)
        assert_problem(patch(client, ana, target, "*", notes="mine"), 404)
        deleted = client.delete(url(target), headers={**ana.headers, "If-Match": "*"})
        assert_problem(deleted, 404)
    assert client.get("/v1/sessions", headers=ana.headers).json()["items"] == []
    assert client.get(url(theirs), headers=bo.headers).json()["notes"] == "Bo's"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": 0}, "body.number"),
        ({"number": 101}, "body.number"),
        ({"number": "five"}, "body.number"),
        ({"phase": "closing"}, "body.phase"),
        ({"held_at": "2026-11-18T17:00:00"}, "body.held_at"),
        ({"held_at": "yesterday"}, "body.held_at"),
        ({"total": 1}, "body.total"),
        ({"owner_id": str(uuid.UUID(int=0))}, "body.owner_id"),
        ({"notes": "x" * 4001}, "body.notes"),
    ],
    ids=[
        "number-0",
        "number-101",
        "number-text",
        "phase",
        "naive",
        "not-a-time",
        "extra",
        "owner",
        "notes-long",
    ],
)
def test_invalid_sessions_are_422(
    client: TestClient, ana: Account, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/sessions", json=session_body(**body), headers=ana.headers)
    assert_problem(response, 422, field)
    assert client.get("/v1/sessions", headers=ana.headers).json()["items"] == []


@pytest.mark.parametrize("missing", ["held_at", "number"])
def test_held_at_and_number_are_required(client: TestClient, ana: Account, missing: str) -> None:
    body = session_body()
    del body[missing]
    response = client.post("/v1/sessions", json=body, headers=ana.headers)
    assert_problem(response, 422, f"body.{missing}")


def test_invalid_patches_are_422(client: TestClient, ana: Account) -> None:
    created = create_session(client, ana, number=2)
    assert_problem(patch(client, ana, created, "*", number=0), 422, "body.number")
    assert_problem(patch(client, ana, created, "*", phase="x"), 422, "body.phase")
    assert_problem(patch(client, ana, created, "*", held_at="2026-11-18"), 422, "body.held_at")
    assert_problem(patch(client, ana, created, "*", version=9), 422, "body.version")
    fetched = client.get(url(created), headers=ana.headers).json()
    assert (fetched["number"], fetched["version"]) == (2, 1)


def test_sessions_need_a_login(client: TestClient) -> None:
    assert client.get("/v1/sessions").status_code == 401
    assert client.post("/v1/sessions", json=session_body()).status_code == 401
