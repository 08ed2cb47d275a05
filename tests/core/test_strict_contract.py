"""Request models are strict where pydantic's lax mode would guess (docs/architecture.md): a
boolean is not a number, a number is not a time, and an unreadable body is a 422 like any
other invalid one. Each refusal names the field and writes nothing; every request model of
every route, including those added later, follows the rule."""

import types
import typing
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo

from app.main import app as module_app
from app.models.base import NOT_A_NUMBER
from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_person,
    list_all,
    register,
)


def _leaves(annotation: Any) -> Iterator[Any]:
    """The types a value of `annotation` may take, through Optional, unions and lists."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        for argument in typing.get_args(annotation):
            yield from _leaves(argument)
    elif origin is typing.Annotated:
        yield from _leaves(typing.get_args(annotation)[0])
    else:
        yield annotation


def _metadata(annotation: Any, field: FieldInfo) -> list[Any]:
    """Every constraint on the field and on the types inside its annotation."""
    found = list(field.metadata)
    stack = [annotation]
    while stack:
        current = stack.pop()
        if typing.get_origin(current) is typing.Annotated:
            found.extend(current.__metadata__)
        stack.extend(typing.get_args(current))
    return found


def _fields(
    model: type[BaseModel], path: str, seen: set[type]
) -> Iterator[tuple[str, Any, FieldInfo]]:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        annotation = field.rebuild_annotation()
        yield f"{path}.{name}", annotation, field
        for leaf in _leaves(annotation):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                yield from _fields(leaf, f"{path}.{name}", seen)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def lax_fields(app: FastAPI) -> list[str]:
    """Request fields that pydantic would fill by guessing: numbers or booleans without
    `Strict`, times or dates that a number could stand for."""
    lax = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for dependant in _dependants(route.dependant):
            for param in dependant.body_params:
                fields: Iterator[tuple[str, Any, FieldInfo]]
                annotation = param.field_info.annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    fields = _fields(annotation, f"{route.path} body", set())
                else:
                    fields = iter(
                        [(f"{route.path} body.{param.name}", annotation, param.field_info)]
                    )
                for where, field_type, info in fields:
                    lax += _lax(where, field_type, info, in_body=True)
            for param in dependant.query_params:
                where = f"{route.path} query.{param.name}"
                lax += _lax(where, param.field_info.annotation, param.field_info, in_body=False)
    return lax


def _lax(where: str, annotation: Any, field: FieldInfo, *, in_body: bool) -> list[str]:
    leaves = set(_leaves(annotation))
    constraints = _metadata(annotation, field)
    problems = []
    # A query string is text: "5" is how a number comes there, so only bodies are strict.
    if (
        in_body
        and leaves & {int, bool, float}
        and not any(isinstance(c, Strict) and c.strict for c in constraints)
    ):
        problems.append(f"{where}: a number or boolean without Strict")
    if leaves & {datetime, date, time} and NOT_A_NUMBER not in constraints:
        problems.append(f"{where}: a time or date that a number could stand for")
    return problems


def test_every_request_field_of_every_route_is_strict() -> None:
    assert lax_fields(module_app) == []


def test_the_rule_finds_a_lax_field() -> None:
    """The check itself can fail: a route with a plain `int`, `datetime` and `time` is caught."""

    class Lax(BaseModel):
        count: int
        at: datetime
        clock: time

    app = FastAPI()

    @app.post("/lax")
    async def lax(body: Lax) -> None: ...

    assert lax_fields(app) == [
        "/lax body.count: a number or boolean without Strict",
        "/lax body.at: a time or date that a number could stand for",
        "/lax body.clock: a time or date that a number could stand for",
    ]


PERSON = {"name": "Sam", "relationship": "friend", "closeness": 2}
PERSON_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
ENTRY = {"occurred_at": "2026-11-20T18:30:00+00:00", "mood": 5, "event": "Talked"}
MEASURE = {"instrument": "gad7", "answers": [1] * 7, "completed_at": "2026-11-20T09:00:00Z"}
SESSION = {"held_at": "2026-11-20T17:00:00Z", "number": 1}
REMINDER = {"kind": "diary", "rrule": "FREQ=DAILY", "local_time": "20:00", "timezone": "UTC"}

# (path, body, the field the 422 names): each a value lax mode would have taken.
LAX_BODIES = [
    ("/v1/people", {**PERSON, "closeness": True}, "body.closeness"),
    ("/v1/people", {**PERSON, "closeness": "2"}, "body.closeness"),
    ("/v1/people", {**PERSON, "closeness": 2.5}, "body.closeness"),
    ("/v1/people", {**PERSON, "satisfaction": False}, "body.satisfaction"),
    ("/v1/people", {**PERSON, "deceased": 1}, "body.deceased"),
    ("/v1/people", {**PERSON, "deceased": "true"}, "body.deceased"),
    ("/v1/entries", {**ENTRY, "mood": True}, "body.mood"),
    ("/v1/entries", {**ENTRY, "private": 0}, "body.private"),
    ("/v1/entries", {**ENTRY, "occurred_at": 1764000000}, "body.occurred_at"),
    ("/v1/entries", {**ENTRY, "occurred_at": "1764000000"}, "body.occurred_at"),
    ("/v1/entries", {**ENTRY, "emotions": [{"label": "hurt", "intensity": True}]},
     "body.emotions.0.intensity"),
    ("/v1/measures", {**MEASURE, "completed_at": 0}, "body.completed_at"),
    ("/v1/measures", {**MEASURE, "answers": [True] * 7}, "body.answers.0"),
    ("/v1/sessions", {**SESSION, "number": True}, "body.number"),
    ("/v1/sessions", {**SESSION, "held_at": 0.5}, "body.held_at"),
    ("/v1/focus-areas", {"problem_area": "grief", "title": "Dad", "agreed_on": 20261120},
     "body.agreed_on"),
    ("/v1/reminders", {**REMINDER, "local_time": 72000}, "body.local_time"),
    ("/v1/reminders", {**REMINDER, "local_time": "72000"}, "body.local_time"),
    ("/v1/reminders", {**REMINDER, "active": 1}, "body.active"),
    ("/v1/reminders", {**REMINDER, "starts_on": 20261120}, "body.starts_on"),
    ("/v1/import", {"format_version": 1, "sessions": ["text"]}, "body.sessions.0"),
    ("/v1/import", {"format_version": 1, "people": [{**PERSON, "id": PERSON_ID, "deceased": 0}]},
     "body.people.0.deceased"),
]  # fmt: skip
COLLECTIONS = [
    "/v1/people",
    "/v1/entries",
    "/v1/measures",
    "/v1/sessions",
    "/v1/focus-areas",
    "/v1/reminders",
]


def stored(client: TestClient, account: Account) -> dict[str, int]:
    return {path: len(list_all(client, account, path)) for path in COLLECTIONS}


@pytest.mark.parametrize(("path", "body", "field"), LAX_BODIES)
def test_a_value_lax_mode_would_guess_is_refused_and_nothing_written(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    ana = register(client)
    create_person(client, ana)
    before = stored(client, ana)

    assert_problem(client.post(path, json=body, headers=ana.headers), 422, field)
    assert stored(client, ana) == before


def test_an_integer_is_any_json_number_without_a_fraction(client: TestClient) -> None:
    """JSON Schema's `integer` includes 2.0: the contract says integer, so it is one."""
    ana = register(client)

    person = create_person(client, ana, closeness=2.0, satisfaction=7.0)

    assert (person["closeness"], person["satisfaction"]) == (2, 7)


def test_a_patch_is_as_strict_as_a_create(client: TestClient) -> None:
    ana = register(client)
    entry = create_entry(client, ana)
    person = create_person(client, ana)

    for path, body, field, version in [
        (f"/v1/entries/{entry['id']}", {"mood": False}, "body.mood", entry["version"]),
        (f"/v1/entries/{entry['id']}", {"private": 1}, "body.private", entry["version"]),
        (f"/v1/people/{person['id']}", {"closeness": True}, "body.closeness", person["version"]),
    ]:
        headers = {**ana.headers, "If-Match": f'"{version}"'}
        assert_problem(client.patch(path, json=body, headers=headers), 422, field)
    assert client.get(f"/v1/entries/{entry['id']}", headers=ana.headers).json() == entry


@pytest.mark.parametrize("value", ["0.5", "1764000000", "-1", "1e9"])
@pytest.mark.parametrize(("path", "name"), [
    ("/v1/entries", "to"), ("/v1/entries", "from"),
    ("/v1/summaries/mood-by-person", "from"), ("/v1/summaries/mood-timeline", "to"),
])  # fmt: skip
def test_a_number_in_a_time_query_is_refused(
    client: TestClient, path: str, name: str, value: str
) -> None:
    ana = register(client)

    response = client.get(path, params={name: value}, headers=ana.headers)

    assert_problem(response, 422, f"query.{name}")


def test_an_unknown_time_zone_is_refused_naming_the_field(client: TestClient) -> None:
    body = {"email": "tz@example.org", "password": "a long passphrase", "display_name": "Tz"}

    for zone in ("Mars/Olympus_Mons", "europe/london", "localtime", "+01:00"):
        response = client.post("/v1/auth/register", json={**body, "timezone": zone})
        assert_problem(response, 422, "body.timezone")
    login = {"username": body["email"], "password": body["password"]}
    assert client.post("/v1/auth/token", data=login).status_code == 401  # nothing registered


@pytest.mark.parametrize(
    ("path", "content", "content_type"),
    [
        ("/v1/people", b"\xff\xfe not JSON", "application/json"),
        ("/v1/people", b"name=Sam", "application/x-www-form-urlencoded"),
        ("/v1/auth/token", b"--x\r\n", "multipart/form-data"),  # no boundary: unparseable
        ("/v1/auth/token", b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ],
)
def test_an_unreadable_body_is_a_422_like_any_invalid_body(
    client: TestClient, path: str, content: bytes, content_type: str
) -> None:
    ana = register(client)
    before = stored(client, ana)

    response = client.post(
        path, content=content, headers={**ana.headers, "Content-Type": content_type}
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"].startswith("body")
    assert stored(client, ana) == before


def test_the_schema_says_what_the_rules_are() -> None:
    schema = module_app.openapi()
    components = schema["components"]["schemas"]
    zones = components["UserRegister"]["properties"]["timezone"]["enum"]
    assert "Europe/London" in zones
    assert "UTC" in zones
    assert "localtime" not in zones
    held_at = components["TherapySessionCreate"]["properties"]["held_at"]
    assert held_at["formatMinimum"] == "1900-01-01T00:00:00Z"
    assert held_at["formatExclusiveMaximum"] == "2200-01-01T00:00:00Z"
    people = schema["paths"]["/v1/people"]["get"]["parameters"]
    cursor = next(p for p in people if p["name"] == "cursor")
    assert cursor["schema"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert "issued" in cursor["description"]
    mood = components["EntryCreate"]["properties"]["mood"]
    assert (mood["type"], mood["minimum"], mood["maximum"]) == ("integer", 0, 10)
    quality = components["EntryPersonIn"]["properties"]["quality"]["anyOf"][0]
    assert (quality["minimum"], quality["maximum"]) == (-2, 2)


def test_every_bound_is_a_json_schema_keyword() -> None:
    """pydantic writes a bound it could not place as `ge`/`le`, which no client reads."""

    def keys(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                if key != "properties":  # property names are not keywords
                    yield from keys(value)
                else:
                    for schema in value.values():
                        yield from keys(schema)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    assert {"ge", "le", "gt", "lt"}.isdisjoint(keys(module_app.openapi()))
