"""Behaviour every endpoint shares (DESIGN §6): problem documents, body limit, headers."""

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import Account, assert_problem, person_body, register

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def ana(app: FastAPI) -> Iterator[Account]:
    """An account that never stores a person: every write made with it here is refused."""
    with TestClient(app) as client:
        yield register(client)


def assert_no_people(client: TestClient, account: Account) -> None:
    listed = client.get("/v1/people?include_archived=true", headers=account.headers)
    assert listed.json() == {"items": [], "next_cursor": None}


def json_headers(account: Account) -> dict[str, str]:
    return {**account.headers, "Content-Type": "application/json"}


# --- malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"name": "Sam", ', id="truncated"),
        pytest.param(b"{'name': 'Sam'}", id="single quotes"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00garbage", id="not utf-8"),
        pytest.param(b"null", id="null"),
    ],
)
def test_malformed_json_is_a_422_problem(client: TestClient, ana: Account, content: bytes) -> None:
    response = client.post("/v1/people", content=content, headers=json_headers(ana))
    body = assert_problem(response, 422)
    assert "Traceback" not in response.text
    assert body["errors"]
    assert_no_people(client, ana)


def test_a_body_that_is_not_json_is_a_422_problem(client: TestClient, ana: Account) -> None:
    response = client.post(
        "/v1/people",
        content=b"name=Sam&relationship=friend&closeness=2",
        headers={**ana.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 422)
    assert_no_people(client, ana)


def test_a_path_id_that_is_not_a_uuid_is_a_422_problem(client: TestClient, ana: Account) -> None:
    assert_problem(client.get("/v1/entries/42", headers=ana.headers), 422, "path.entry_id")


# --- body size limit ---------------------------------------------------------------------


def big_person(size: int) -> bytes:
    """A JSON person body of exactly `size` bytes (its notes are far over their own limit)."""
    skeleton = json.dumps(person_body(notes="")).encode()
    body = json.dumps(person_body(notes="n" * (size - len(skeleton)))).encode()
    assert len(body) == size
    return body


def chunks(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * LIMIT])
def test_a_body_over_256_kib_is_413(client: TestClient, ana: Account, size: int) -> None:
    response = client.post("/v1/people", content=big_person(size), headers=json_headers(ana))
    assert_problem(response, 413)
    assert_no_people(client, ana)


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * LIMIT])
def test_a_chunked_body_over_256_kib_is_413(client: TestClient, ana: Account, size: int) -> None:
    response = client.post(
        "/v1/people", content=chunks(big_person(size)), headers=json_headers(ana)
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)
    assert_no_people(client, ana)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_256_kib_is_read(client: TestClient, ana: Account, chunked: bool) -> None:
    """Not refused for size: it is parsed, and refused for its over-long notes instead."""
    body = big_person(LIMIT)
    content = chunks(body) if chunked else body
    response = client.post("/v1/people", content=content, headers=json_headers(ana))
    assert_problem(response, 422, "body.notes")
    assert_no_people(client, ana)


def test_the_limit_applies_without_a_token_too(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/register",
        content=chunks(b'{"email": "' + b"a" * (LIMIT + 10) + b'"}'),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413)


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/entries/x/y", "/nope", "/v1"])
def test_an_unknown_route_is_a_404_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/entries", {"GET", "POST"}),
        ("DELETE", "/v1/entries", {"GET", "POST"}),
        ("PUT", "/v1/entries/{id}", {"GET", "PATCH", "DELETE"}),
        ("POST", "/v1/people/{id}", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/v1/focus-areas", {"GET", "POST"}),
        ("PUT", "/v1/me", {"GET", "PATCH", "DELETE"}),
        ("GET", "/v1/auth/token", {"POST"}),
        ("POST", "/healthz", {"GET"}),
    ],
)
def test_a_wrong_method_is_a_405_problem_with_allow(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path.format(id=uuid.uuid4()))
    assert_problem(response, 405)
    listed = {m.strip() for m in response.headers["allow"].split(",")}
    # HEAD may ride along with GET; nothing else may be claimed.
    assert listed - {"HEAD"} == allowed
    assert method not in listed


# --- headers -------------------------------------------------------------------------------


def test_every_v1_response_has_the_protective_headers(client: TestClient, ana: Account) -> None:
    bea = register(client, name="Bea")
    person = client.post("/v1/people", json=person_body(), headers=bea.headers)
    person_id = person.json()["id"]
    responses = {
        "201": person,
        "200": client.get("/v1/me", headers=ana.headers),
        "200 emotions": client.get("/v1/emotions"),
        "401": client.get("/v1/entries"),
        "403": client.request("DELETE", "/v1/me", json={"password": "wrong"}, headers=bea.headers),
        "404": client.get(f"/v1/people/{person_id}", headers=ana.headers),
        "404 route": client.get("/v1/nope"),
        "405": client.put("/v1/entries"),
        "412": client.delete(f"/v1/people/{person_id}", headers={**bea.headers, "If-Match": '"9"'}),
        "413": client.post("/v1/people", content=big_person(LIMIT + 1), headers=json_headers(ana)),
        "422": client.post("/v1/people", json={}, headers=ana.headers),
        "428": client.delete(f"/v1/people/{person_id}", headers=bea.headers),
        "204": client.delete(f"/v1/people/{person_id}", headers={**bea.headers, "If-Match": "*"}),
    }
    for name, response in responses.items():
        assert response.status_code == int(name[:3]), name
        assert response.headers.get("x-content-type-options") == "nosniff", name
        assert response.headers.get("cache-control") == "no-store", name
        assert response.headers.get("x-request-id"), name


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/nope", "/openapi.json"])
def test_every_response_has_a_request_id(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response.headers["x-request-id"])


def test_request_ids_are_unique(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    "incoming",
    ["abc-123", "0f8e6c1a-4d9b-4b8e-9a3c-2f1d0e9c8b7a", "req.42:retry_1", "x" * 128],
)
def test_a_well_formed_request_id_is_echoed(client: TestClient, incoming: str) -> None:
    for path in ("/healthz", "/v1/entries"):
        response = client.get(path, headers={"X-Request-ID": incoming})
        assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["has spaces", "x" * 129, "<script>alert(1)</script>", "semi;colon", ""],
)
def test_a_malformed_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/v1/entries", headers={"X-Request-ID": incoming})
    replaced = response.headers["x-request-id"]
    assert replaced != incoming
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", replaced)


# --- health --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_answer_200(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
