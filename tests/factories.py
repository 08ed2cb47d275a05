"""Plain functions that create what a test needs through the public API."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models.diary import Entry, EntryEmotion, EntryPerson

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    id: str
    email: str
    headers: dict[str, str]
    refresh_token: str
    profile: dict[str, Any] = field(default_factory=dict)


def register(
    client: TestClient, *, role: str = "client", timezone: str = "UTC", name: str = "Ana"
) -> Account:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.org"
    response = client.post(
        "/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "role": role,
            "display_name": name,
            "timezone": timezone,
        },
    )
    assert response.status_code == 201, response.text
    tokens = login(client, email)
    return Account(
        id=response.json()["id"],
        email=email,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        refresh_token=tokens["refresh_token"],
        profile=response.json(),
    )


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def person_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Sam", "relationship": "friend", "closeness": 2, **overrides}


def create_person(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/people", json=person_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def focus_area_body(**overrides: Any) -> dict[str, Any]:
    return {"problem_area": "role_transition", "title": "New job", **overrides}


def create_focus_area(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/focus-areas", json=focus_area_body(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def entry_body(**overrides: Any) -> dict[str, Any]:
    return {
        "occurred_at": "2026-11-20T18:30:00+00:00",
        "mood": 5,
        "event": "Had coffee with Sam",
        "event_type": "social_activity",
        **overrides,
    }


def create_entry(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/entries", json=entry_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (naming `field` if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    if field is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert field in fields, f"{field} not in {fields}"
    return body


def set_timezone(client: TestClient, account: Account, timezone: str) -> None:
    response = client.patch("/v1/me", json={"timezone": timezone}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["timezone"] == timezone


def session_body(**overrides: Any) -> dict[str, Any]:
    return {"held_at": "2026-11-18T17:00:00+00:00", "number": 1, **overrides}


def create_session(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/sessions", json=session_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def measure_body(**overrides: Any) -> dict[str, Any]:
    return {
        "instrument": "phq9",
        "answers": [0] * 9,
        "completed_at": "2026-11-20T09:00:00+00:00",
        **overrides,
    }


def create_measure(client: TestClient, account: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/measures", json=measure_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def list_all(
    client: TestClient, account: Account, path: str, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated list endpoint, following `next_cursor` to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query: dict[str, Any] = {"limit": 100, **params}
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get(path, params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} kept returning a next_cursor")


def sync_page(
    client: TestClient, account: Account, since: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """One page of GET /v1/sync."""
    params: dict[str, Any] = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    response = client.get("/v1/sync", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def sync_to_end(
    client: TestClient, account: Account, since: str | None = None, limit: int | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Pages of GET /v1/sync from `since` until `has_more` is false, and the last anchor."""
    pages: list[dict[str, Any]] = []
    for _ in range(200):
        page = sync_page(client, account, since, limit)
        pages.append(page)
        since = page["next_anchor"]
        if not page["has_more"]:
            return pages, page["next_anchor"]
    raise AssertionError("GET /v1/sync kept answering has_more: true")


def get_summary(client: TestClient, account: Account, kind: str, **params: Any) -> Any:
    """GET /v1/summaries/{kind}; asserts 200 and returns the body."""
    response = client.get(f"/v1/summaries/{kind}", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def create_share(
    client: TestClient, account: Account, scope: str = "full", expires_at: str | None = None
) -> dict[str, Any]:
    """POST /v1/shares: the new share with its one-time `code`."""
    body: dict[str, Any] = {"scope": scope}
    if expires_at is not None:
        body["expires_at"] = expires_at
    response = client.post("/v1/shares", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def redeem_code(client: TestClient, therapist: Account, code: str) -> dict[str, Any]:
    """POST /v1/therapist/links: the linked client as the therapist sees it."""
    response = client.post("/v1/therapist/links", json={"code": code}, headers=therapist.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def share_with(
    client: TestClient,
    client_account: Account,
    therapist_account: Account,
    scope: str = "full",
    expires_at: str | None = None,
) -> str:
    """The client shares with the therapist (code created and redeemed); the client's id."""
    share = create_share(client, client_account, scope, expires_at)
    linked = redeem_code(client, therapist_account, share["code"])
    assert linked["client_id"] == client_account.id
    assert linked["scope"] == scope
    return str(linked["client_id"])


def revoke_share(client: TestClient, account: Account, share_id: str) -> None:
    response = client.delete(f"/v1/shares/{share_id}", headers=account.headers)
    assert response.status_code == 204, response.text


# Free text a serializer can get wrong: escapes, control characters, separators JavaScript
# does not allow in strings, astral characters, and text that looks like the JSON around it.
ODD_TEXT = (
    'quote " and backslash \\',
    "tab\there",
    "bell\x07 and \x01 and \x1f",
    "line\nbreak\r",
    "</script> & <b>",
    "Schädenfreude 😀",
    "separators \u2028 \u2029",
    "del \x7f",
    "ünïcödé ☃ \b\f",
    '"communication":null',
    '"communication" : null',
    '"tags" : null, "event" : null',
)


def create_awkward_entries(
    client: TestClient, account: Account, people: list[str], focus_area_id: str
) -> list[str]:
    """One entry per ODD_TEXT, varied in every way an entry's JSON can vary; their ids."""
    ids = []
    for n, text in enumerate(ODD_TEXT):
        named = people[: n % 4]
        created = create_entry(
            client,
            account,
            # whole seconds, fractions (one with trailing zeros), an offset
            occurred_at=[
                f"2026-03-0{1 + n % 9}T0{n % 10}:15:00Z",
                f"2026-03-1{n % 10}T10:00:00.1{n}0000Z",
                f"2026-04-0{1 + n % 9}T23:59:59.000001+05:30",
                f"2026-05-0{1 + n % 9}T22:30:00.5-03:00",  # the next day in UTC
            ][n % 4],
            mood=n % 11,  # moods 0 and 1 answer `safety` on create, never on reads
            event=f"{text} (event {n})",
            event_type=["conversation", "conflict", "other"][n % 3],
            focus_area_id=focus_area_id if n % 2 else None,
            private=n % 4 == 0,
            tags=[] if n % 3 == 0 else [text[:20].strip() or "x", "zz"],
            people=[
                {"person_id": person, "quality": [None, -2, 2][i % 3]}
                for i, person in enumerate(named)
            ],
            # not in the order of their people or labels: read by position
            emotions=[
                {"label": "zz custom " + text[:10], "intensity": 9, "person_id": named[-1]}
                if named
                else {"label": "hurt", "intensity": 0},
                {"label": "calm", "intensity": n % 11},
                {"label": text[:30], "intensity": 10, "person_id": named[0]}
                if named
                else {"label": "aa custom", "intensity": 1},
            ],
            communication=(
                {"what_i_said": text, "what_i_felt": "ok", "what_i_could_try": "🙂"}
                if n % 2
                else None
            ),
        )
        ids.append(str(created["id"]))
    return ids


def stored_entries(
    session: Session, owner_id: uuid.UUID, include_private: bool
) -> list[tuple[Entry, list[EntryPerson], list[EntryEmotion]]]:
    """The owner's entries as stored (read through the ORM, which decrypts them), each with
    its people by person id and its emotions by position: what serializers are checked
    against."""
    query = select(Entry).where(col(Entry.owner_id) == owner_id)
    if not include_private:
        query = query.where(col(Entry.private).is_(False))
    entries = session.exec(query.order_by(col(Entry.occurred_at), col(Entry.id))).all()
    people = session.exec(
        select(EntryPerson)
        .where(col(EntryPerson.owner_id) == owner_id)
        .order_by(col(EntryPerson.person_id))
    ).all()
    emotions = session.exec(
        select(EntryEmotion)
        .where(col(EntryEmotion.owner_id) == owner_id)
        .order_by(col(EntryEmotion.position))
    ).all()
    return [
        (
            entry,
            [p for p in people if p.entry_id == entry.id],
            [e for e in emotions if e.entry_id == entry.id],
        )
        for entry in entries
    ]
