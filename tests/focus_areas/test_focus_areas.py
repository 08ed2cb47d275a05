"""Focus areas: create, read, change, delete, with ETags; entries outlive their focus area."""

import uuid
from collections.abc import Iterator
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
    focus_area_body,
    register,
)


@pytest.fixture(scope="module")
def shared(app: FastAPI) -> Iterator[Account]:
    """For tests that only touch the resolved focus areas they create (never a whole list)."""
    with TestClient(app) as client:
        yield register(client, name="Shared")


def get_focus_area(client: TestClient, account: Account, focus_area_id: str) -> Any:
    return client.get(f"/v1/focus-areas/{focus_area_id}", headers=account.headers)


def listed_ids(client: TestClient, account: Account) -> list[str]:
    response = client.get("/v1/focus-areas", headers=account.headers)
    assert response.status_code == 200, response.text
    return [fa["id"] for fa in response.json()["items"]]


def test_create_answers_the_focus_area_with_an_etag(client: TestClient) -> None:
    ana = register(client)
    mum = create_person(client, ana, name="Mum", relationship="parent")
    dad = create_person(client, ana, name="Dad", relationship="parent")
    response = client.post(
        "/v1/focus-areas",
        json=focus_area_body(
            problem_area="role_dispute",
            title="Arguments with my parents",
            description="About money",
            goals=["Say no calmly", "Ask for what I need"],
            agreed_on="2026-10-05",
            dispute_stage="renegotiation",
            person_ids=[mum["id"], dad["id"]],
        ),
        headers=ana.headers,
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    area = response.json()
    uuid.UUID(area["id"])
    assert area["version"] == 1
    assert area["problem_area"] == "role_dispute"
    assert area["status"] == "active"
    assert area["goals"] == ["Say no calmly", "Ask for what I need"]
    assert area["agreed_on"] == "2026-10-05"
    assert area["dispute_stage"] == "renegotiation"
    assert area["from_role"] is None
    assert sorted(area["person_ids"]) == sorted([mum["id"], dad["id"]])
    assert "owner_id" not in area

    fetched = get_focus_area(client, ana, area["id"])
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json() == area
    assert listed_ids(client, ana) == [area["id"]]


def test_defaults(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana, problem_area="grief", title="Dad")
    assert area["status"] == "active"
    assert area["goals"] == []
    assert area["person_ids"] == []
    assert area["description"] is None
    assert area["agreed_on"] is None
    assert area["dispute_stage"] is None


def test_patch_changes_only_what_is_sent(client: TestClient, shared: Account) -> None:
    ana = shared
    sam = create_person(client, ana)
    jo = create_person(client, ana, name="Jo")
    area = create_focus_area(
        client,
        ana,
        status="resolved",
        from_role="employee",
        to_role="manager",
        person_ids=[sam["id"]],
    )
    response = client.patch(
        f"/v1/focus-areas/{area['id']}",
        json={"to_role": "team lead", "goals": ["Delegate"], "person_ids": [jo["id"]]},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    changed = response.json()
    assert changed["version"] == 2
    assert changed["to_role"] == "team lead"
    assert changed["from_role"] == "employee"
    assert changed["goals"] == ["Delegate"]
    assert changed["person_ids"] == [jo["id"]]
    assert changed["title"] == area["title"]
    assert get_focus_area(client, ana, area["id"]).json() == changed


def test_resolving_a_focus_area(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    response = client.patch(
        f"/v1/focus-areas/{area['id']}",
        json={"status": "resolved"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "resolved"
    assert get_focus_area(client, ana, area["id"]).json()["status"] == "resolved"


def test_patch_without_if_match_is_428(client: TestClient, shared: Account) -> None:
    ana = shared
    area = create_focus_area(client, ana, status="resolved")
    response = client.patch(
        f"/v1/focus-areas/{area['id']}", json={"title": "X"}, headers=ana.headers
    )
    assert_problem(response, 428)
    assert get_focus_area(client, ana, area["id"]).json() == area


def test_patch_with_a_stale_if_match_is_412_with_the_current_etag(
    client: TestClient, shared: Account
) -> None:
    ana = shared
    area = create_focus_area(client, ana, status="resolved")
    ok = client.patch(
        f"/v1/focus-areas/{area['id']}",
        json={"title": "First"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"/v1/focus-areas/{area['id']}",
        json={"title": "Second"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"2"'
    assert get_focus_area(client, ana, area["id"]).json()["title"] == "First"


def test_patch_with_star_matches_any_version(client: TestClient, shared: Account) -> None:
    ana = shared
    area = create_focus_area(client, ana, status="resolved")
    for title, etag in (("One", '"2"'), ("Two", '"3"')):
        response = client.patch(
            f"/v1/focus-areas/{area['id']}",
            json={"title": title},
            headers={**ana.headers, "If-Match": "*"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == etag
    assert get_focus_area(client, ana, area["id"]).json()["title"] == "Two"


def test_delete_needs_a_current_if_match(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    assert_problem(client.delete(f"/v1/focus-areas/{area['id']}", headers=ana.headers), 428)
    stale = client.delete(
        f"/v1/focus-areas/{area['id']}", headers={**ana.headers, "If-Match": '"5"'}
    )
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert get_focus_area(client, ana, area["id"]).status_code == 200

    deleted = client.delete(
        f"/v1/focus-areas/{area['id']}", headers={**ana.headers, "If-Match": "*"}
    )
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(get_focus_area(client, ana, area["id"]), 404)
    assert listed_ids(client, ana) == []


def test_deleting_a_focus_area_keeps_its_entries_unlinked(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    other = create_focus_area(client, ana, problem_area="grief", title="Dad")
    linked = [create_entry(client, ana, focus_area_id=area["id"], mood=m) for m in (2, 7)]
    untouched = create_entry(client, ana, focus_area_id=other["id"])

    response = client.delete(
        f"/v1/focus-areas/{area['id']}", headers={**ana.headers, "If-Match": '"1"'}
    )
    assert response.status_code == 204

    for entry in linked:
        after = client.get(f"/v1/entries/{entry['id']}", headers=ana.headers)
        assert after.status_code == 200
        body = after.json()
        assert body["focus_area_id"] is None
        assert body["event"] == entry["event"]
        assert body["mood"] == entry["mood"]
    kept = client.get(f"/v1/entries/{untouched['id']}", headers=ana.headers).json()
    assert kept["focus_area_id"] == other["id"]
    listed = client.get("/v1/entries", headers=ana.headers).json()["items"]
    assert len(listed) == 3


def test_deleting_a_focus_area_frees_an_active_slot(client: TestClient) -> None:
    ana = register(client)
    first = create_focus_area(client, ana, title="A")
    create_focus_area(client, ana, title="B")
    response = client.delete(
        f"/v1/focus-areas/{first['id']}", headers={**ana.headers, "If-Match": "*"}
    )
    assert response.status_code == 204
    third = create_focus_area(client, ana, title="C")
    assert third["status"] == "active"


def test_a_client_supplied_id_is_honoured_and_cannot_be_reused(client: TestClient) -> None:
    ana = register(client)
    area_id = str(uuid.uuid4())
    created = create_focus_area(client, ana, id=area_id, status="resolved")
    assert created["id"] == area_id
    assert get_focus_area(client, ana, area_id).json() == created
    reused = client.post(
        "/v1/focus-areas",
        json=focus_area_body(id=area_id, title="Overwrite?", status="resolved"),
        headers=ana.headers,
    )
    assert_problem(reused, 409)
    assert get_focus_area(client, ana, area_id).json() == created
    assert listed_ids(client, ana) == [area_id]


def test_unknown_focus_area_is_404(client: TestClient, shared: Account) -> None:
    ana = shared
    missing = str(uuid.uuid4())
    assert_problem(get_focus_area(client, ana, missing), 404)
    deleted = client.delete(f"/v1/focus-areas/{missing}", headers={**ana.headers, "If-Match": "*"})
    assert_problem(deleted, 404)
