"""Every therapist read is in the client's access log; the read-only routes take no writes."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import app as module_app
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    create_person,
    create_session,
    create_share,
    list_all,
    redeem_code,
    register,
    revoke_share,
    share_with,
)

PREFIX = "/v1/therapist/clients/{client_id}/"
# Every read a therapist can make of a client, from the app's own route table.
VIEWS = sorted(
    path.removeprefix(PREFIX)
    for path, operations in module_app.openapi()["paths"].items()
    if path.startswith(PREFIX) and "get" in operations
)
# What a `summaries` share shows (DESIGN §4, §9); everything else needs a `full` share.
SUMMARY_SCOPE = ("summaries/", "safety-events", "reports/")
SUMMARY_VIEWS = [view for view in VIEWS if view.startswith(SUMMARY_SCOPE)]
FULL_ONLY_VIEWS = [view for view in VIEWS if not view.startswith(SUMMARY_SCOPE)]


@dataclass
class Module:
    """Accounts the tests share; each test reads a client of its own, so logs never mix."""

    dr_lee: Account  # linked to each test's client as that test needs
    stranger: Account  # a therapist linked to the bystander only
    bystander: Account  # a client nobody reads: their log stays empty


@pytest.fixture(scope="module")
def shared(app: FastAPI) -> Iterator[Module]:
    with TestClient(app) as http:
        bystander = register(http, name="Bystander")
        stranger = register(http, role="therapist", name="Dr Stranger")
        share_with(http, bystander, stranger, "full")
        yield Module(register(http, role="therapist", name="Dr Lee"), stranger, bystander)


def a_client(http: TestClient) -> Account:
    account = register(http, name="Ana")
    person = create_person(http, account)
    create_session(http, account)
    create_entry(http, account, people=[{"person_id": person["id"], "quality": 1}])
    return account


def read(http: TestClient, therapist: Account, client_id: str, view: str) -> Any:
    return http.get(f"/v1/therapist/clients/{client_id}/{view}", headers=therapist.headers)


def access_log(http: TestClient, account: Account) -> list[dict[str, Any]]:
    return list_all(http, account, "/v1/access-log")


def test_the_routes_under_test_exist() -> None:
    assert "entries" in VIEWS
    assert "summaries/mood-by-person" in SUMMARY_VIEWS


def test_every_read_is_logged_for_the_client(client: TestClient, shared: Module) -> None:
    ana, therapist = a_client(client), shared.dr_lee
    share_with(client, ana, therapist, "full")
    assert access_log(client, ana) == []  # redeeming the code is not a read

    started = datetime.now(UTC) - timedelta(seconds=5)
    for view in VIEWS:
        assert read(client, therapist, ana.id, view).status_code == 200, view
    finished = datetime.now(UTC) + timedelta(seconds=5)

    log = access_log(client, ana)
    assert [event["action"] for event in log] == list(reversed(VIEWS))  # newest first
    for event in log:
        assert event["therapist_id"] == therapist.id
        assert event["therapist_name"] == "Dr Lee"
        assert event["outcome"] == "ok"
        assert started <= datetime.fromisoformat(event["at"]) <= finished
    assert [event["at"] for event in log] == sorted((event["at"] for event in log), reverse=True)
    assert access_log(client, shared.bystander) == []


def test_each_read_is_one_row(client: TestClient, shared: Module) -> None:
    ana, therapist = a_client(client), shared.dr_lee
    share_with(client, ana, therapist, "summaries")
    for _ in range(3):
        assert read(client, therapist, ana.id, "summaries/mood-timeline").status_code == 200
    log = access_log(client, ana)
    assert [event["action"] for event in log] == ["summaries/mood-timeline"] * 3


def test_a_read_beyond_the_scope_is_refused_and_logged_as_denied(
    client: TestClient, shared: Module
) -> None:
    ana, therapist = a_client(client), shared.dr_lee
    share_with(client, ana, therapist, "summaries")

    for view in FULL_ONLY_VIEWS:
        assert_problem(read(client, therapist, ana.id, view), 403)
    assert read(client, therapist, ana.id, "summaries/mood-by-person").status_code == 200

    log = access_log(client, ana)
    assert [(event["action"], event["outcome"]) for event in log] == [
        ("summaries/mood-by-person", "ok"),
        *((view, "denied") for view in reversed(FULL_ONLY_VIEWS)),
    ]
    assert {event["therapist_id"] for event in log} == {therapist.id}
    assert {event["therapist_name"] for event in log} == {"Dr Lee"}


def test_the_log_outlives_the_share(client: TestClient, shared: Module) -> None:
    ana, therapist = a_client(client), shared.dr_lee
    share = create_share(client, ana, "full")
    redeem_code(client, therapist, share["code"])
    assert read(client, therapist, ana.id, "entries").status_code == 200
    assert read(client, therapist, ana.id, "people").status_code == 200
    before = access_log(client, ana)
    assert [event["action"] for event in before] == ["people", "entries"]

    revoke_share(client, ana, share["id"])
    assert_problem(read(client, therapist, ana.id, "entries"), 404)
    assert access_log(client, ana) == before  # kept, and the refused read added nothing


def test_the_name_logged_is_the_name_at_the_time(client: TestClient) -> None:
    ana = a_client(client)
    therapist = register(client, role="therapist", name="Dr Lee")
    share_with(client, ana, therapist, "full")
    assert read(client, therapist, ana.id, "sessions").status_code == 200
    renamed = client.patch(
        "/v1/me", json={"display_name": "Dr Lee-Smith"}, headers=therapist.headers
    )
    assert renamed.status_code == 200
    assert read(client, therapist, ana.id, "measures").status_code == 200
    log = access_log(client, ana)
    assert [(event["action"], event["therapist_name"]) for event in log] == [
        ("measures", "Dr Lee-Smith"),
        ("sessions", "Dr Lee"),
    ]


def test_another_client_never_sees_the_log(client: TestClient, shared: Module) -> None:
    ana, bob, therapist = a_client(client), a_client(client), shared.dr_lee
    share_with(client, ana, therapist, "full")
    share_with(client, bob, therapist, "full")
    assert read(client, therapist, ana.id, "entries").status_code == 200
    assert [event["action"] for event in access_log(client, bob)] == []
    assert read(client, therapist, bob.id, "summaries/focus-areas").status_code == 200
    assert [event["action"] for event in access_log(client, ana)] == ["entries"]
    assert [event["action"] for event in access_log(client, bob)] == ["summaries/focus-areas"]
    # The therapist has no access log of their own to read.
    assert_problem(client.get("/v1/access-log", headers=therapist.headers), 403)


@pytest.mark.parametrize("view", ["entries", "summaries/mood-by-person"])
def test_a_read_that_finds_no_link_writes_nothing(
    client: TestClient, shared: Module, view: str
) -> None:
    ana = a_client(client)
    share_with(client, ana, shared.dr_lee, "full")  # Ana shares, but not with the stranger

    assert_problem(read(client, shared.stranger, ana.id, view), 404)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(read(client, shared.stranger, unknown, view), 404)
    assert access_log(client, ana) == []
    assert access_log(client, shared.bystander) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", [*(PREFIX + view for view in VIEWS), "/v1/therapist/clients"])
def test_the_therapists_view_takes_no_writes(
    client: TestClient, shared: Module, path: str, method: str
) -> None:
    response = client.request(
        method,
        path.format(client_id=shared.bystander.id),
        json={},
        headers={**shared.stranger.headers, "If-Match": "*"},
    )
    assert_problem(response, 405)
    allowed = {name.strip() for name in response.headers["allow"].split(",")}
    assert "GET" in allowed
    assert allowed <= {"GET", "HEAD"}


def test_the_log_outlives_the_therapists_account(client: TestClient) -> None:
    ana = a_client(client)
    therapist = register(client, role="therapist", name="Dr Gone")
    share_with(client, ana, therapist, "full")
    assert read(client, therapist, ana.id, "entries").status_code == 200
    erased = client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=therapist.headers
    )
    assert erased.status_code == 204, erased.text
    (event,) = access_log(client, ana)
    assert event["action"] == "entries"
    assert event["therapist_name"] == "Dr Gone"
    assert event["outcome"] == "ok"
