"""The interpersonal inventory: create, read, change, delete (or archive), with ETags."""

import uuid
from collections.abc import Iterator
from datetime import datetime
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
    person_body,
    register,
)


@pytest.fixture(scope="module")
def shared(app: FastAPI) -> Iterator[Account]:
    """For tests that only touch the rows they create (never a whole list)."""
    with TestClient(app) as client:
        yield register(client, name="Shared")


def get_person(client: TestClient, account: Account, person_id: str) -> Any:
    return client.get(f"/v1/people/{person_id}", headers=account.headers)


def listed_ids(client: TestClient, account: Account, **params: Any) -> list[str]:
    response = client.get("/v1/people", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


def test_create_answers_the_person_with_an_etag(client: TestClient) -> None:
    ana = register(client)
    response = client.post(
        "/v1/people",
        json=person_body(name="Mum", relationship="parent", closeness=1),
        headers=ana.headers,
    )
    assert response.status_code == 201, response.text
    person = response.json()
    assert response.headers["etag"] == '"1"'
    assert person["version"] == 1
    uuid.UUID(person["id"])
    assert person["name"] == "Mum"
    assert person["relationship"] == "parent"
    assert person["closeness"] == 1
    assert person["deceased"] is False
    assert person["satisfaction"] is None
    assert person["notes"] is None
    assert person["archived_at"] is None
    assert datetime.fromisoformat(person["created_at"]).tzinfo is not None
    assert "owner_id" not in person

    fetched = get_person(client, ana, person["id"])
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json() == person
    assert listed_ids(client, ana) == [person["id"]]


def test_patch_changes_only_what_is_sent_and_bumps_the_etag(
    client: TestClient, shared: Account
) -> None:
    ana = shared
    person = create_person(client, ana, satisfaction=3, notes="Kind but distant")
    response = client.patch(
        f"/v1/people/{person['id']}",
        json={"satisfaction": 6, "deceased": True},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    changed = response.json()
    assert changed["version"] == 2
    assert changed["satisfaction"] == 6
    assert changed["deceased"] is True
    assert changed["notes"] == "Kind but distant"
    assert changed["name"] == person["name"]
    assert changed["created_at"] == person["created_at"]
    assert get_person(client, ana, person["id"]).json() == changed

    cleared = client.patch(
        f"/v1/people/{person['id']}",
        json={"notes": None, "satisfaction": None},
        headers={**ana.headers, "If-Match": '"2"'},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["notes"] is None
    assert cleared.json()["satisfaction"] is None
    assert cleared.headers["etag"] == '"3"'


def test_patch_without_if_match_is_428(client: TestClient, shared: Account) -> None:
    ana = shared
    person = create_person(client, ana)
    response = client.patch(f"/v1/people/{person['id']}", json={"name": "X"}, headers=ana.headers)
    assert_problem(response, 428)
    assert get_person(client, ana, person["id"]).json() == person


def test_patch_with_a_stale_if_match_is_412_with_the_current_etag(
    client: TestClient, shared: Account
) -> None:
    ana = shared
    person = create_person(client, ana)
    first = client.patch(
        f"/v1/people/{person['id']}",
        json={"name": "First"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/v1/people/{person['id']}",
        json={"name": "Second"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"2"'
    assert get_person(client, ana, person["id"]).json()["name"] == "First"


def test_patch_with_star_matches_any_version(client: TestClient, shared: Account) -> None:
    ana = shared
    person = create_person(client, ana)
    for name, etag in (("One", '"2"'), ("Two", '"3"')):
        response = client.patch(
            f"/v1/people/{person['id']}",
            json={"name": name},
            headers={**ana.headers, "If-Match": "*"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == etag
    assert get_person(client, ana, person["id"]).json()["name"] == "Two"


def test_delete_needs_a_current_if_match(client: TestClient, shared: Account) -> None:
    ana = shared
    person = create_person(client, ana)
    assert_problem(client.delete(f"/v1/people/{person['id']}", headers=ana.headers), 428)
    stale = client.delete(f"/v1/people/{person['id']}", headers={**ana.headers, "If-Match": '"7"'})
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert get_person(client, ana, person["id"]).status_code == 200

    deleted = client.delete(
        f"/v1/people/{person['id']}", headers={**ana.headers, "If-Match": '"1"'}
    )
    assert deleted.status_code == 204


def test_deleting_an_unnamed_person_removes_them(client: TestClient) -> None:
    ana = register(client)
    person = create_person(client, ana)
    keep = create_person(client, ana, name="Keep")
    response = client.delete(f"/v1/people/{person['id']}", headers={**ana.headers, "If-Match": "*"})
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(get_person(client, ana, person["id"]), 404)
    assert listed_ids(client, ana, include_archived="true") == [keep["id"]]
    again = client.delete(f"/v1/people/{person['id']}", headers={**ana.headers, "If-Match": "*"})
    assert_problem(again, 404)


def test_deleting_a_person_named_in_an_entry_archives_them(client: TestClient) -> None:
    ana = register(client)
    mum = create_person(client, ana, name="Mum", relationship="parent")
    other = create_person(client, ana, name="Other")
    entry = create_entry(
        client,
        ana,
        people=[{"person_id": mum["id"], "quality": -2}],
        emotions=[{"label": "hurt", "intensity": 8, "person_id": mum["id"]}],
    )

    response = client.delete(f"/v1/people/{mum['id']}", headers={**ana.headers, "If-Match": '"1"'})
    assert response.status_code == 204

    archived = get_person(client, ana, mum["id"])
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert datetime.fromisoformat(archived.json()["archived_at"]).tzinfo is not None
    assert archived.json()["name"] == "Mum"
    assert listed_ids(client, ana) == [other["id"]]
    assert set(listed_ids(client, ana, include_archived="true")) == {mum["id"], other["id"]}

    kept = client.get(f"/v1/entries/{entry['id']}", headers=ana.headers).json()
    assert kept["people"] == [{"person_id": mum["id"], "quality": -2}]
    assert kept["emotions"][0]["person_id"] == mum["id"]
    listed = client.get("/v1/entries", params={"person_id": mum["id"]}, headers=ana.headers)
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]


def test_deleting_a_person_drops_them_from_focus_areas(client: TestClient, shared: Account) -> None:
    ana = shared
    sam = create_person(client, ana)
    mum = create_person(client, ana, name="Mum")
    focus = create_focus_area(client, ana, status="resolved", person_ids=[sam["id"], mum["id"]])
    response = client.delete(f"/v1/people/{sam['id']}", headers={**ana.headers, "If-Match": "*"})
    assert response.status_code == 204
    after = client.get(f"/v1/focus-areas/{focus['id']}", headers=ana.headers).json()
    assert after["person_ids"] == [mum["id"]]


def test_a_client_supplied_id_is_honoured_and_cannot_be_reused(client: TestClient) -> None:
    ana = register(client)
    person_id = str(uuid.uuid4())
    created = create_person(client, ana, id=person_id, name="Offline")
    assert created["id"] == person_id
    assert get_person(client, ana, person_id).json() == created

    reused = client.post(
        "/v1/people", json=person_body(id=person_id, name="Overwrite?"), headers=ana.headers
    )
    assert_problem(reused, 409)
    assert get_person(client, ana, person_id).json() == created
    assert listed_ids(client, ana) == [person_id]


def test_list_pages_through_people(client: TestClient) -> None:
    ana = register(client)
    people = [create_person(client, ana, name=f"P{i}")["id"] for i in range(5)]
    first = client.get("/v1/people", params={"limit": 3}, headers=ana.headers).json()
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    rest = client.get(
        "/v1/people", params={"limit": 3, "cursor": first["next_cursor"]}, headers=ana.headers
    ).json()
    assert rest["next_cursor"] is None
    seen = [p["id"] for p in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(people)
    assert len(seen) == len(set(seen))


def test_unknown_person_is_404(client: TestClient, shared: Account) -> None:
    ana = shared
    missing = str(uuid.uuid4())
    assert_problem(get_person(client, ana, missing), 404)
    patched = client.patch(
        f"/v1/people/{missing}", json={"name": "X"}, headers={**ana.headers, "If-Match": "*"}
    )
    assert_problem(patched, 404)
    assert_problem(client.get("/v1/people/not-a-uuid", headers=ana.headers), 422, "path.person_id")
