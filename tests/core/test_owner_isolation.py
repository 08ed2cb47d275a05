"""One client can neither see, change, delete nor reference another client's rows."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_person,
    entry_body,
    focus_area_body,
    person_body,
    register,
)


@dataclass
class Diary:
    account: Account
    person: dict[str, Any]
    focus_area: dict[str, Any]
    entry: dict[str, Any]


def make_diary(client: TestClient, name: str) -> Diary:
    account = register(client, name=name)
    person = create_person(client, account, name=f"{name}'s mum", relationship="parent")
    focus_area = create_focus_area(
        client,
        account,
        problem_area="role_dispute",
        title="Arguments",
        dispute_stage="impasse",
        person_ids=[person["id"]],
    )
    entry = create_entry(
        client,
        account,
        event=f"{name} argued with mum",
        focus_area_id=focus_area["id"],
        people=[{"person_id": person["id"], "quality": -1}],
        emotions=[{"label": "hurt", "intensity": 6, "person_id": person["id"]}],
    )
    return Diary(account=account, person=person, focus_area=focus_area, entry=entry)


@pytest.fixture(scope="module")
def two_clients(app: FastAPI) -> Iterator[tuple[Diary, Diary]]:
    """Ana and Bob, each with a person, a focus area and an entry. Tests here never change
    them (every attempt is refused), so they are shared by the module."""
    with TestClient(app) as client:
        yield make_diary(client, "Ana"), make_diary(client, "Bob")


RESOURCES = {
    "entry": ("/v1/entries", "entry", {"mood": 0, "event": "hijacked"}),
    "person": ("/v1/people", "person", {"name": "hijacked"}),
    "focus area": ("/v1/focus-areas", "focus_area", {"title": "hijacked"}),
}


def assert_unchanged(client: TestClient, diary: Diary, kind: str) -> None:
    base, attribute, _ = RESOURCES[kind]
    original = getattr(diary, attribute)
    response = client.get(f"{base}/{original['id']}", headers=diary.account.headers)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == original


@pytest.mark.parametrize("kind", list(RESOURCES))
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_clients_row_is_not_found(
    client: TestClient, two_clients: tuple[Diary, Diary], kind: str, method: str
) -> None:
    ana, bob = two_clients
    base, attribute, changes = RESOURCES[kind]
    row_id = getattr(ana, attribute)["id"]
    headers = {**bob.account.headers, "If-Match": "*"}
    body = changes if method == "PATCH" else None

    response = client.request(method, f"{base}/{row_id}", json=body, headers=headers)
    problem = assert_problem(response, 404)
    assert ana.entry["event"] not in response.text

    # Exactly the answer for an id that exists nowhere: nothing tells Bob the row exists.
    unknown_id = str(uuid.uuid4())
    unknown = client.request(method, f"{base}/{unknown_id}", json=body, headers=headers)
    unknown_problem = assert_problem(unknown, 404)
    assert {k: str(v).replace(unknown_id, row_id) for k, v in unknown_problem.items()} == {
        k: str(v) for k, v in problem.items()
    }
    assert_unchanged(client, ana, kind)


def test_a_wrong_if_match_does_not_reveal_another_clients_row(
    client: TestClient, two_clients: tuple[Diary, Diary]
) -> None:
    """404, not the 412 or 428 the owner would get: the row's existence stays hidden."""
    ana, bob = two_clients
    for headers in ({**bob.account.headers, "If-Match": '"99"'}, bob.account.headers):
        response = client.patch(f"/v1/entries/{ana.entry['id']}", json={"mood": 1}, headers=headers)
        assert_problem(response, 404)
    assert_unchanged(client, ana, "entry")


@pytest.mark.parametrize(
    ("body_for", "field"),
    [
        pytest.param(
            lambda a, b: entry_body(people=[{"person_id": a.person["id"]}]),
            "body.people.0.person_id",
            id="another client's person",
        ),
        pytest.param(
            lambda a, b: entry_body(
                people=[{"person_id": b.person["id"]}, {"person_id": a.person["id"]}]
            ),
            "body.people.1.person_id",
            id="own person and another client's person",
        ),
        pytest.param(
            lambda a, b: entry_body(focus_area_id=a.focus_area["id"]),
            "body.focus_area_id",
            id="another client's focus area",
        ),
    ],
)
def test_entry_cannot_reference_another_clients_rows(
    client: TestClient, two_clients: tuple[Diary, Diary], body_for: Any, field: str
) -> None:
    ana, bob = two_clients
    entry_id = str(uuid.uuid4())
    body = {"id": entry_id, **body_for(ana, bob)}
    response = client.post("/v1/entries", json=body, headers=bob.account.headers)
    assert_problem(response, 422, field)
    assert client.get(f"/v1/entries/{entry_id}", headers=bob.account.headers).status_code == 404
    listed = client.get("/v1/entries", headers=bob.account.headers).json()["items"]
    assert [e["id"] for e in listed] == [bob.entry["id"]]
    # Nor did it land in Ana's diary.
    assert client.get(f"/v1/entries/{entry_id}", headers=ana.account.headers).status_code == 404


@pytest.mark.parametrize(
    ("changes_for", "field"),
    [
        pytest.param(
            lambda a: {"people": [{"person_id": a.person["id"]}], "emotions": []},
            "body.people.0.person_id",
            id="another client's person",
        ),
        pytest.param(
            lambda a: {"focus_area_id": a.focus_area["id"]},
            "body.focus_area_id",
            id="another client's focus area",
        ),
    ],
)
def test_entry_patch_cannot_reference_another_clients_rows(
    client: TestClient, two_clients: tuple[Diary, Diary], changes_for: Any, field: str
) -> None:
    ana, bob = two_clients
    response = client.patch(
        f"/v1/entries/{bob.entry['id']}",
        json=changes_for(ana),
        headers={**bob.account.headers, "If-Match": '"1"'},
    )
    assert_problem(response, 422, field)
    assert_unchanged(client, bob, "entry")


def test_focus_area_cannot_name_another_clients_person(
    client: TestClient, two_clients: tuple[Diary, Diary]
) -> None:
    ana, bob = two_clients
    focus_area_id = str(uuid.uuid4())
    response = client.post(
        "/v1/focus-areas",
        json=focus_area_body(id=focus_area_id, status="resolved", person_ids=[ana.person["id"]]),
        headers=bob.account.headers,
    )
    assert_problem(response, 422, "body.person_ids.0")
    listed = client.get("/v1/focus-areas", headers=bob.account.headers).json()["items"]
    assert [fa["id"] for fa in listed] == [bob.focus_area["id"]]

    patched = client.patch(
        f"/v1/focus-areas/{bob.focus_area['id']}",
        json={"person_ids": [ana.person["id"]]},
        headers={**bob.account.headers, "If-Match": '"1"'},
    )
    assert_problem(patched, 422, "body.person_ids.0")
    assert_unchanged(client, bob, "focus area")


def test_lists_show_only_the_callers_rows(
    client: TestClient, two_clients: tuple[Diary, Diary]
) -> None:
    ana, bob = two_clients
    for diary in (ana, bob):
        headers = diary.account.headers
        entries = client.get("/v1/entries?limit=100", headers=headers).json()
        people = client.get("/v1/people?include_archived=true&limit=100", headers=headers).json()
        areas = client.get("/v1/focus-areas?limit=100", headers=headers).json()
        assert entries == {"items": [diary.entry], "next_cursor": None}
        assert people == {"items": [diary.person], "next_cursor": None}
        assert areas == {"items": [diary.focus_area], "next_cursor": None}


@pytest.mark.parametrize(
    "query_for",
    [
        pytest.param(lambda a: f"person_id={a.person['id']}", id="person_id"),
        pytest.param(lambda a: f"focus_area_id={a.focus_area['id']}", id="focus_area_id"),
        pytest.param(lambda a: "emotion=hurt", id="emotion"),
    ],
)
def test_filters_never_reach_another_clients_entries(
    client: TestClient, two_clients: tuple[Diary, Diary], query_for: Any
) -> None:
    ana, bob = two_clients
    response = client.get(f"/v1/entries?{query_for(ana)}", headers=bob.account.headers)
    assert response.status_code == 200
    assert ana.entry["id"] not in {e["id"] for e in response.json()["items"]}


def test_a_client_supplied_id_used_by_another_client_does_not_touch_their_row(
    client: TestClient, two_clients: tuple[Diary, Diary]
) -> None:
    ana, _ = two_clients
    cleo = register(client, name="Cleo")
    response = client.post(
        "/v1/people",
        json=person_body(id=ana.person["id"], name="Cleo's friend"),
        headers=cleo.headers,
    )
    # Reusing the id must neither overwrite Ana's row nor reveal that it exists (no 409).
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Cleo's friend"
    assert_unchanged(client, ana, "person")
    assert client.get(f"/v1/people/{ana.person['id']}", headers=cleo.headers).json()["name"] == (
        "Cleo's friend"
    )


# --- roles -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def therapist(app: FastAPI) -> Iterator[Account]:
    with TestClient(app) as client:
        yield register(client, role="therapist", name="Dr Lee")


CLIENT_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/entries", None),
    ("POST", "/v1/entries", entry_body()),
    ("GET", "/v1/entries/{entry}", None),
    ("PATCH", "/v1/entries/{entry}", {"mood": 1}),
    ("DELETE", "/v1/entries/{entry}", None),
    ("GET", "/v1/people", None),
    ("POST", "/v1/people", {"name": "X", "relationship": "other", "closeness": 3}),
    ("GET", "/v1/people/{person}", None),
    ("PATCH", "/v1/people/{person}", {"name": "Y"}),
    ("DELETE", "/v1/people/{person}", None),
    ("GET", "/v1/focus-areas", None),
    ("POST", "/v1/focus-areas", focus_area_body(status="resolved")),
    ("GET", "/v1/focus-areas/{focus_area}", None),
    ("PATCH", "/v1/focus-areas/{focus_area}", {"title": "Z"}),
    ("DELETE", "/v1/focus-areas/{focus_area}", None),
]


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [pytest.param(m, t, b, id=f"{m} {t}") for m, t, b in CLIENT_ROUTES],
)
def test_a_therapist_token_is_refused_on_client_routes(
    client: TestClient,
    two_clients: tuple[Diary, Diary],
    therapist: Account,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    ana, _ = two_clients
    path = template.format(
        entry=ana.entry["id"], person=ana.person["id"], focus_area=ana.focus_area["id"]
    )
    headers = {**therapist.headers, "If-Match": "*"}
    response = client.request(method, path, json=body, headers=headers)
    assert_problem(response, 403)
    assert ana.entry["event"] not in response.text
    assert_unchanged(client, ana, "entry")
    assert_unchanged(client, ana, "person")
    assert_unchanged(client, ana, "focus area")


def test_a_therapist_can_read_their_own_account(client: TestClient, therapist: Account) -> None:
    response = client.get("/v1/me", headers=therapist.headers)
    assert response.status_code == 200
    assert response.json()["role"] == "therapist"


@pytest.mark.parametrize("path", ["/v1/entries", "/v1/people", "/v1/focus-areas", "/v1/me"])
def test_no_token_is_401(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")
