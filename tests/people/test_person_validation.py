"""Every bound DESIGN §2 puts on a person: 422 naming the field, and nothing stored.

Rejections never write, so one account per module (per backend) serves every rejected case.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import Account, assert_problem, create_person, person_body, register

RELATIONSHIPS = [
    "partner",
    "ex_partner",
    "parent",
    "child",
    "sibling",
    "grandparent",
    "other_family",
    "friend",
    "colleague",
    "manager",
    "neighbour",
    "carer",
    "health_professional",
    "other",
]


@pytest.fixture(scope="module")
def empty(app: FastAPI) -> Iterator[Account]:
    """An account that never gets a person: every request made with it is refused."""
    with TestClient(app) as client:
        yield register(client)


@pytest.fixture(scope="module")
def writer(app: FastAPI) -> Iterator[Account]:
    with TestClient(app) as client:
        yield register(client, name="Writer")


def assert_no_people(client: TestClient, account: Account, person_id: str) -> None:
    assert client.get(f"/v1/people/{person_id}", headers=account.headers).status_code == 404
    listed = client.get("/v1/people?include_archived=true", headers=account.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next_cursor": None}


def body_without(field: str) -> dict[str, Any]:
    body = person_body()
    del body[field]
    return body


REJECTED = [
    ("name missing", body_without("name"), "body.name"),
    ("name empty", person_body(name=""), "body.name"),
    ("name 81 chars", person_body(name="n" * 81), "body.name"),
    ("name null", person_body(name=None), "body.name"),
    ("relationship missing", body_without("relationship"), "body.relationship"),
    ("relationship unknown", person_body(relationship="boss"), "body.relationship"),
    ("relationship wrong case", person_body(relationship="Friend"), "body.relationship"),
    ("closeness missing", body_without("closeness"), "body.closeness"),
    ("closeness 0", person_body(closeness=0), "body.closeness"),
    ("closeness 4", person_body(closeness=4), "body.closeness"),
    ("closeness fractional", person_body(closeness=1.5), "body.closeness"),
    ("deceased not a bool", person_body(deceased="perhaps"), "body.deceased"),
    ("satisfaction -1", person_body(satisfaction=-1), "body.satisfaction"),
    ("satisfaction 11", person_body(satisfaction=11), "body.satisfaction"),
    ("notes 2001 chars", person_body(notes="n" * 2001), "body.notes"),
    ("id not a uuid", person_body(id="sam"), "body.id"),
    ("owner_id sent", person_body(owner_id=str(uuid.uuid4())), "body.owner_id"),
    ("archived_at sent", person_body(archived_at="2026-01-01T00:00:00Z"), "body.archived_at"),
    ("created_at sent", person_body(created_at="2026-01-01T00:00:00Z"), "body.created_at"),
    ("version sent", person_body(version=3), "body.version"),
    ("unknown field", person_body(nickname="S"), "body.nickname"),
]


@pytest.mark.parametrize(("body", "field"), [pytest.param(b, f, id=n) for n, b, f in REJECTED])
def test_invalid_person_is_refused_and_not_stored(
    client: TestClient, empty: Account, body: dict[str, Any], field: str
) -> None:
    person_id = str(uuid.uuid4())
    sent = {"id": person_id, **body}
    response = client.post("/v1/people", json=sent, headers=empty.headers)
    assert_problem(response, 422, field)
    assert_no_people(client, empty, person_id)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"name": "N"}, id="name 1 char"),
        pytest.param({"name": "ñ" * 80}, id="name 80 chars"),
        pytest.param({"closeness": 1}, id="closeness 1"),
        pytest.param({"closeness": 3}, id="closeness 3"),
        pytest.param({"satisfaction": 0}, id="satisfaction 0"),
        pytest.param({"satisfaction": 10}, id="satisfaction 10"),
        pytest.param({"satisfaction": None}, id="satisfaction null"),
        pytest.param({"notes": "n" * 2000}, id="notes 2000 chars"),
        pytest.param({"deceased": True}, id="deceased"),
        *[pytest.param({"relationship": r}, id=f"relationship {r}") for r in RELATIONSHIPS],
    ],
)
def test_values_within_bounds_are_accepted(
    client: TestClient, writer: Account, overrides: dict[str, Any]
) -> None:
    created = create_person(client, writer, **overrides)
    fetched = client.get(f"/v1/people/{created['id']}", headers=writer.headers).json()
    for key, value in overrides.items():
        assert created[key] == value
        assert fetched[key] == value


PATCH_REJECTED = [
    ("name empty", {"name": ""}, "body.name"),
    ("name 81 chars", {"name": "n" * 81}, "body.name"),
    ("name null", {"name": None}, "body.name"),
    ("relationship unknown", {"relationship": "boss"}, "body.relationship"),
    ("relationship null", {"relationship": None}, "body.relationship"),
    ("closeness 4", {"closeness": 4}, "body.closeness"),
    ("closeness null", {"closeness": None}, "body.closeness"),
    ("satisfaction 11", {"satisfaction": 11}, "body.satisfaction"),
    ("notes 2001 chars", {"notes": "n" * 2001}, "body.notes"),
    ("deceased null", {"deceased": None}, "body.deceased"),
    ("id sent", {"id": str(uuid.uuid4())}, "body.id"),
    ("owner_id sent", {"owner_id": str(uuid.uuid4())}, "body.owner_id"),
    ("archived_at sent", {"archived_at": "2026-01-01T00:00:00Z"}, "body.archived_at"),
    ("version sent", {"version": 5}, "body.version"),
]


@pytest.fixture(scope="module")
def patch_target(app: FastAPI) -> Iterator[tuple[Account, dict[str, Any]]]:
    with TestClient(app) as client:
        owner = register(client, name="Patcher")
        yield owner, create_person(client, owner, satisfaction=4, notes="Kind")


@pytest.mark.parametrize(
    ("changes", "field"), [pytest.param(c, f, id=n) for n, c, f in PATCH_REJECTED]
)
def test_invalid_patch_is_refused_and_changes_nothing(
    client: TestClient,
    patch_target: tuple[Account, dict[str, Any]],
    changes: dict[str, Any],
    field: str,
) -> None:
    owner, person = patch_target
    response = client.patch(
        f"/v1/people/{person['id']}", json=changes, headers={**owner.headers, "If-Match": "*"}
    )
    assert_problem(response, 422, field)
    after = client.get(f"/v1/people/{person['id']}", headers=owner.headers)
    assert after.headers["etag"] == '"1"'
    assert after.json() == person
