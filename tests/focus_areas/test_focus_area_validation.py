"""Every bound DESIGN §2 puts on a focus area: 422 naming the field (409 for a third active
one), and nothing stored.

Rejections never write, so one account per module (per backend) serves every rejected case.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_focus_area,
    create_person,
    focus_area_body,
    register,
)


@dataclass
class Inventory:
    """An account with people and no focus area, and another client's person."""

    account: Account
    people: list[str]
    stranger_person_id: str


@pytest.fixture(scope="module")
def inventory(app: FastAPI) -> Iterator[Inventory]:
    with TestClient(app) as client:
        ana = register(client)
        bob = register(client, name="Bob")
        yield Inventory(
            account=ana,
            people=[create_person(client, ana, name=f"P{i}")["id"] for i in range(2)],
            stranger_person_id=create_person(client, bob)["id"],
        )


@pytest.fixture(scope="module")
def writer(app: FastAPI) -> Iterator[Account]:
    with TestClient(app) as client:
        yield register(client, name="Writer")


def assert_no_focus_areas(client: TestClient, account: Account, focus_area_id: str) -> None:
    assert client.get(f"/v1/focus-areas/{focus_area_id}", headers=account.headers).status_code == (
        404
    )
    listed = client.get("/v1/focus-areas", headers=account.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next_cursor": None}


def without(field: str) -> Callable[[Inventory], dict[str, Any]]:
    def build(_i: Inventory) -> dict[str, Any]:
        body = focus_area_body()
        del body[field]
        return body

    return build


def with_(**overrides: Any) -> Callable[[Inventory], dict[str, Any]]:
    return lambda _i: focus_area_body(**overrides)


REJECTED: list[tuple[str, Callable[[Inventory], dict[str, Any]], str]] = [
    ("problem_area missing", without("problem_area"), "body.problem_area"),
    ("problem_area unknown", with_(problem_area="anger"), "body.problem_area"),
    ("title missing", without("title"), "body.title"),
    ("title empty", with_(title=""), "body.title"),
    ("title 121 chars", with_(title="t" * 121), "body.title"),
    ("description 2001 chars", with_(description="d" * 2001), "body.description"),
    ("goals not a list", with_(goals="be calmer"), "body.goals"),
    ("goals 11 items", with_(goals=[f"goal {i}" for i in range(11)]), "body.goals"),
    ("goal empty", with_(goals=["fine", ""]), "body.goals.1"),
    ("goal 501 chars", with_(goals=["g" * 501]), "body.goals.0"),
    ("agreed_on not a date", with_(agreed_on="last week"), "body.agreed_on"),
    ("status unknown", with_(status="paused"), "body.status"),
    (
        "dispute_stage unknown",
        with_(problem_area="role_dispute", dispute_stage="furious"),
        "body.dispute_stage",
    ),
    *[
        (
            f"dispute_stage on {area}",
            with_(problem_area=area, dispute_stage="impasse"),
            "body.dispute_stage",
        )
        for area in ("grief", "role_transition", "interpersonal_deficits")
    ],
    *[
        (f"{role} on {area}", with_(problem_area=area, **{role: "student"}), f"body.{role}")
        for area in ("grief", "role_dispute", "interpersonal_deficits")
        for role in ("from_role", "to_role")
    ],
    ("from_role 121 chars", with_(from_role="r" * 121), "body.from_role"),
    ("to_role 121 chars", with_(to_role="r" * 121), "body.to_role"),
    ("person_ids not a list", with_(person_ids="everyone"), "body.person_ids"),
    ("person_ids not uuids", with_(person_ids=["sam"]), "body.person_ids.0"),
    (
        "person_ids unknown",
        lambda i: focus_area_body(person_ids=[i.people[0], str(uuid.uuid4())]),
        "body.person_ids.1",
    ),
    (
        "person_ids of another client",
        lambda i: focus_area_body(person_ids=[i.stranger_person_id]),
        "body.person_ids.0",
    ),
    (
        "person_ids twice the same",
        lambda i: focus_area_body(person_ids=[i.people[0], i.people[0]]),
        "body.person_ids",
    ),
    ("id not a uuid", with_(id="fa-1"), "body.id"),
    ("owner_id sent", with_(owner_id=str(uuid.uuid4())), "body.owner_id"),
    ("created_at sent", with_(created_at="2026-01-01T00:00:00Z"), "body.created_at"),
    ("version sent", with_(version=2), "body.version"),
    ("unknown field", with_(priority=1), "body.priority"),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=name) for name, b, f in REJECTED]
)
def test_invalid_focus_area_is_refused_and_not_stored(
    client: TestClient,
    inventory: Inventory,
    build: Callable[[Inventory], dict[str, Any]],
    field: str,
) -> None:
    focus_area_id = str(uuid.uuid4())
    body = {"id": focus_area_id, **build(inventory)}
    response = client.post("/v1/focus-areas", json=body, headers=inventory.account.headers)
    assert_problem(response, 422, field)
    assert_no_focus_areas(client, inventory.account, focus_area_id)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"problem_area": "grief", "title": "T"}, id="grief, title 1 char"),
        pytest.param(
            {"problem_area": "role_dispute", "dispute_stage": "renegotiation"},
            id="role_dispute renegotiation",
        ),
        pytest.param(
            {"problem_area": "role_dispute", "dispute_stage": "dissolution"},
            id="role_dispute dissolution",
        ),
        pytest.param(
            {"problem_area": "role_transition", "from_role": "r" * 120, "to_role": "parent"},
            id="role_transition with roles",
        ),
        pytest.param(
            {"problem_area": "interpersonal_deficits", "title": "t" * 120},
            id="interpersonal_deficits, title 120 chars",
        ),
        pytest.param(
            {"goals": [f"goal {i}" for i in range(9)] + ["g" * 500]},
            id="10 goals, one of 500 chars",
        ),
        pytest.param({"description": "d" * 2000, "agreed_on": "2026-10-01"}, id="description"),
    ],
)
def test_values_within_bounds_are_accepted(
    client: TestClient, writer: Account, overrides: dict[str, Any]
) -> None:
    created = create_focus_area(client, writer, status="resolved", **overrides)
    fetched = client.get(f"/v1/focus-areas/{created['id']}", headers=writer.headers).json()
    for key, value in overrides.items():
        assert created[key] == value
        assert fetched[key] == value


# --- at most two active --------------------------------------------------------------------


def test_a_third_active_focus_area_is_a_conflict(client: TestClient) -> None:
    ana = register(client)
    first = create_focus_area(client, ana, problem_area="grief", title="Dad")
    second = create_focus_area(client, ana)
    third_id = str(uuid.uuid4())
    response = client.post(
        "/v1/focus-areas",
        json=focus_area_body(id=third_id, problem_area="interpersonal_deficits"),
        headers=ana.headers,
    )
    assert_problem(response, 409)
    assert client.get(f"/v1/focus-areas/{third_id}", headers=ana.headers).status_code == 404
    listed = client.get("/v1/focus-areas", headers=ana.headers).json()["items"]
    assert {fa["id"] for fa in listed} == {first["id"], second["id"]}

    # Status defaults to active, so saying nothing about it is a conflict too; resolved is fine.
    explicit = client.post(
        "/v1/focus-areas", json=focus_area_body(status="active"), headers=ana.headers
    )
    assert_problem(explicit, 409)
    resolved = create_focus_area(client, ana, status="resolved", title="Old job")
    assert resolved["status"] == "resolved"


def test_reactivating_a_resolved_focus_area_beyond_two_is_a_conflict(client: TestClient) -> None:
    ana = register(client)
    resolved = create_focus_area(client, ana, status="resolved", title="Old")
    create_focus_area(client, ana, title="A")
    create_focus_area(client, ana, title="B")

    response = client.patch(
        f"/v1/focus-areas/{resolved['id']}",
        json={"status": "active"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert_problem(response, 409)
    after = client.get(f"/v1/focus-areas/{resolved['id']}", headers=ana.headers)
    assert after.json() == resolved
    assert after.headers["etag"] == '"1"'


def test_reactivating_is_allowed_once_another_is_resolved(client: TestClient) -> None:
    ana = register(client)
    old = create_focus_area(client, ana, status="resolved", title="Old")
    a = create_focus_area(client, ana, title="A")
    create_focus_area(client, ana, title="B")
    resolve = client.patch(
        f"/v1/focus-areas/{a['id']}",
        json={"status": "resolved"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert resolve.status_code == 200, resolve.text
    reactivate = client.patch(
        f"/v1/focus-areas/{old['id']}",
        json={"status": "active"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert reactivate.status_code == 200, reactivate.text
    assert reactivate.json()["status"] == "active"


def test_editing_an_active_focus_area_while_two_are_active_is_fine(client: TestClient) -> None:
    ana = register(client)
    a = create_focus_area(client, ana, title="A")
    create_focus_area(client, ana, title="B")
    response = client.patch(
        f"/v1/focus-areas/{a['id']}",
        json={"status": "active", "title": "A, renamed"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "A, renamed"


# --- PATCH applies the same bounds ---------------------------------------------------------


PATCH_REJECTED: list[tuple[str, Callable[[Inventory], dict[str, Any]], str]] = [
    ("title empty", lambda _i: {"title": ""}, "body.title"),
    ("title null", lambda _i: {"title": None}, "body.title"),
    ("problem_area null", lambda _i: {"problem_area": None}, "body.problem_area"),
    ("status null", lambda _i: {"status": None}, "body.status"),
    ("goals 11 items", lambda _i: {"goals": [f"g{i}" for i in range(11)]}, "body.goals"),
    # The target is a role_dispute at the impasse stage.
    ("from_role on a role_dispute", lambda _i: {"from_role": "x"}, "body.from_role"),
    (
        "becoming grief while keeping the dispute stage",
        lambda _i: {"problem_area": "grief"},
        "body.dispute_stage",
    ),
    (
        "person_ids of another client",
        lambda i: {"person_ids": [i.stranger_person_id]},
        "body.person_ids.0",
    ),
    ("owner_id sent", lambda _i: {"owner_id": str(uuid.uuid4())}, "body.owner_id"),
    ("version sent", lambda _i: {"version": 4}, "body.version"),
]


@pytest.fixture(scope="module")
def patch_target(app: FastAPI, inventory: Inventory) -> Iterator[tuple[Account, dict[str, Any]]]:
    with TestClient(app) as client:
        owner = register(client, name="Patcher")
        person = create_person(client, owner)
        yield (
            owner,
            create_focus_area(
                client,
                owner,
                problem_area="role_dispute",
                title="Mum",
                dispute_stage="impasse",
                person_ids=[person["id"]],
            ),
        )


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=name) for name, b, f in PATCH_REJECTED]
)
def test_invalid_patch_is_refused_and_changes_nothing(
    client: TestClient,
    inventory: Inventory,
    patch_target: tuple[Account, dict[str, Any]],
    build: Callable[[Inventory], dict[str, Any]],
    field: str,
) -> None:
    owner, focus_area = patch_target
    response = client.patch(
        f"/v1/focus-areas/{focus_area['id']}",
        json=build(inventory),
        headers={**owner.headers, "If-Match": "*"},
    )
    assert_problem(response, 422, field)
    after = client.get(f"/v1/focus-areas/{focus_area['id']}", headers=owner.headers)
    assert after.headers["etag"] == '"1"'
    assert after.json() == focus_area
