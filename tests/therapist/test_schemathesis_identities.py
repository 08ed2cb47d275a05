"""Property-based fuzzing (schemathesis) with more than one identity, so that object-level
authorization is exercised and not only the happy path of one account.

- The therapist's routes, called by therapists linked to Ana (at `full` and at `summaries`
  scope) with Ana's real client id: never a 5xx, responses conform to the schema, and the
  answer is the one the link's scope gives (a `summaries` link gets 403 outside summaries).
- Every client route that names a row, called with Bob's token and Ana's ids: never a 2xx,
  never a 5xx, the same answer as for an id that does not exist (existence is not revealed),
  and Ana's rows unchanged afterwards.

Driven through each operation's hypothesis strategy, as in tests/core/test_schemathesis.py.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from app.main import app as module_app
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    create_share,
    list_all,
    register,
    share_with,
)
from tests.reminders.support import create_reminder

PATHS: dict[str, dict[str, Any]] = module_app.openapi()["paths"]
THERAPIST_PREFIX = "/v1/therapist/clients/{client_id}/"
THERAPIST_READS = [path for path in PATHS if path.startswith(THERAPIST_PREFIX)]
# Client routes that name one of the caller's rows: in the path, or by `?session_id=` for
# the interval ending at that session. Other id parameters in a query only filter a list.
OBJECT_PARAMETERS = {"person_id", "focus_area_id", "entry_id", "session_id", "measure_id"}
OBJECT_PARAMETERS |= {"share_id", "reminder_id"}
QUERY_NAMES_A_ROW = {"/v1/summaries/between-sessions", "/v1/reports/session-brief"}


def _names(operation: dict[str, Any], where: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == where}


CLIENT_ROUTES = [
    (method.upper(), path, operation)
    for path, operations in PATHS.items()
    if not path.startswith("/v1/therapist/")
    for method, operation in operations.items()
]
CLIENT_OBJECT_ROUTES = [
    (method, path)
    for method, path, operation in CLIENT_ROUTES
    if OBJECT_PARAMETERS & _names(operation, "path")
    or (path in QUERY_NAMES_A_ROW and OBJECT_PARAMETERS & _names(operation, "query"))
]
CLIENT_FILTER_ROUTES = [
    (method, path)
    for method, path, operation in CLIENT_ROUTES
    if path not in QUERY_NAMES_A_ROW and OBJECT_PARAMETERS & _names(operation, "query")
]
# A schema-valid value the API may still refuse by design (see tests/core/test_schemathesis.py).
SEMANTIC_PARAMETERS = {"cursor", "since", "from", "to", "If-Match"}

SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Parties:
    ana: Account
    bob: Account
    full: Account  # therapist linked to Ana at scope full
    summaries: Account  # therapist linked to Ana at scope summaries
    ids: dict[str, str]  # Ana's rows, by the parameter that names them


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def parties(app: FastAPI) -> Iterator[Parties]:
    with TestClient(app) as http:
        ana = register(http, name="Ana")
        person = create_person(http, ana)
        focus_area = create_focus_area(http, ana, person_ids=[person["id"]])
        entry = create_entry(
            http,
            ana,
            focus_area_id=focus_area["id"],
            people=[{"person_id": person["id"], "quality": 1}],
            emotions=[{"label": "hurt", "intensity": 4, "person_id": person["id"]}],
        )
        session = create_session(http, ana)
        measure = create_measure(http, ana)
        reminder = create_reminder(http, ana)
        full = register(http, role="therapist", name="Dr Full")
        summaries = register(http, role="therapist", name="Dr Summaries")
        share_with(http, ana, full, "full")
        share_with(http, ana, summaries, "summaries")
        share = create_share(http, ana, "summaries")
        bob = register(http, name="Bob")
        create_entry(http, bob)
        yield Parties(
            ana=ana,
            bob=bob,
            full=full,
            summaries=summaries,
            ids={
                "person_id": person["id"],
                "focus_area_id": focus_area["id"],
                "entry_id": entry["id"],
                "session_id": session["id"],
                "measure_id": measure["id"],
                "share_id": share["id"],
                "reminder_id": reminder["id"],
            },
        )


def excluded_checks(method: str, path: str) -> list[Any]:
    names = {p["name"] for p in PATHS[path][method.lower()].get("parameters", [])}
    return [positive_data_acceptance] if names & SEMANTIC_PARAMETERS else []


# --- the therapist's routes ------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["full", "summaries"])
@pytest.mark.parametrize("path", THERAPIST_READS)
def test_a_linked_therapist_reads_at_the_scope_of_the_link(
    api_schema: OpenApiSchema, parties: Parties, path: str, scope: str
) -> None:
    therapist = parties.full if scope == "full" else parties.summaries
    summary_scope = tuple(
        f"{THERAPIST_PREFIX}{view}" for view in ("summaries/", "safety-events", "reports/")
    )
    allowed = scope == "full" or path.startswith(summary_scope)
    operation = api_schema[path]["GET"]
    # A summaries-only link is refused before the query is looked at: its 403 is by design.
    excluded = excluded_checks("GET", path) if allowed else [positive_data_acceptance]

    @given(case=operation.as_strategy())
    @SETTINGS
    def check(case: Case) -> None:
        case.path_parameters["client_id"] = parties.ana.id
        if case.query and "session_id" in case.query:
            case.query["session_id"] = parties.ids["session_id"]
        response = case.call_and_validate(headers=therapist.headers, excluded_checks=excluded)
        expected = {200, 422} if allowed else {403, 422}
        assert response.status_code in expected, (response.status_code, response.text)

    check()


# --- another client's rows -------------------------------------------------------------------


def owner_view(http: TestClient, parties: Parties) -> dict[str, Any]:
    """Ana's rows as she sees them (ETags included), to show nothing of hers changed."""
    view: dict[str, Any] = {}
    for name, base in [
        ("person_id", "/v1/people"),
        ("focus_area_id", "/v1/focus-areas"),
        ("entry_id", "/v1/entries"),
        ("session_id", "/v1/sessions"),
        ("measure_id", "/v1/measures"),
        ("reminder_id", "/v1/reminders"),
    ]:
        response = http.get(f"{base}/{parties.ids[name]}", headers=parties.ana.headers)
        view[name] = (response.status_code, response.headers.get("etag"), response.json())
    view["shares"] = list_all(http, parties.ana, "/v1/shares")
    return view


@pytest.mark.parametrize(
    ("method", "path"), CLIENT_OBJECT_ROUTES, ids=[f"{m} {p}" for m, p in CLIENT_OBJECT_ROUTES]
)
def test_another_clients_ids_get_nothing(
    app: FastAPI, api_schema: OpenApiSchema, parties: Parties, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    with TestClient(app) as http:
        before = owner_view(http, parties)

    @given(case=operation.as_strategy())
    @SETTINGS
    def check(case: Case) -> None:
        named = False
        for container in (case.path_parameters, case.query):
            for name in OBJECT_PARAMETERS & set(container or {}):
                container[name] = parties.ids[name]
                named = True
        response = case.call_and_validate(
            headers=parties.bob.headers, excluded_checks=[positive_data_acceptance]
        )
        if not named:  # an optional `?session_id=` left out: Bob's own data
            assert response.status_code < 500
            return
        assert response.status_code in {404, 422, 428}, (response.status_code, response.text)
        # An id that exists nowhere gets the very same answer.
        for container in (case.path_parameters, case.query):
            for name in OBJECT_PARAMETERS & set(container or {}):
                container[name] = str(uuid.uuid4())
        unknown = case.call(headers=parties.bob.headers)
        assert unknown.status_code == response.status_code

    check()
    with TestClient(app) as http:
        assert owner_view(http, parties) == before


@pytest.mark.parametrize(
    ("method", "path"), CLIENT_FILTER_ROUTES, ids=[f"{m} {p}" for m, p in CLIENT_FILTER_ROUTES]
)
def test_filtering_by_another_clients_ids_finds_none_of_their_rows(
    api_schema: OpenApiSchema, parties: Parties, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    anas = set(parties.ids.values())

    @given(case=operation.as_strategy())
    @SETTINGS
    def check(case: Case) -> None:
        for name in OBJECT_PARAMETERS & set(case.query or {}):
            case.query[name] = parties.ids[name]
        response = case.call_and_validate(
            headers=parties.bob.headers, excluded_checks=excluded_checks(method, path)
        )
        assert response.status_code in {200, 422}, (response.status_code, response.text)
        if response.status_code == 200:
            assert {item["id"] for item in response.json()["items"]}.isdisjoint(anas)

    check()


def test_the_fuzzed_routes_exist() -> None:
    assert len(THERAPIST_READS) >= 9
    assert ("DELETE", "/v1/entries/{entry_id}") in CLIENT_OBJECT_ROUTES
    assert ("DELETE", "/v1/shares/{share_id}") in CLIENT_OBJECT_ROUTES
    assert ("PATCH", "/v1/reminders/{reminder_id}") in CLIENT_OBJECT_ROUTES
    assert ("GET", "/v1/summaries/between-sessions") in CLIENT_OBJECT_ROUTES
    assert ("GET", "/v1/entries") in CLIENT_FILTER_ROUTES
