"""Every bound DESIGN §2 puts on an entry: refused with a 422 naming the field, nothing stored.

Rejections never write, so one account per module (per backend) serves every rejected case;
each case also sends its own id and checks that no entry with that id appeared.
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
    create_entry,
    create_focus_area,
    create_person,
    entry_body,
    register,
)

COMMUNICATION_FIELDS = (
    "what_i_said",
    "what_they_said",
    "what_i_felt",
    "what_i_wanted",
    "what_happened",
    "what_i_could_try",
)


@dataclass
class Diary:
    """An account with people and a focus area, and (for rejection tests) no entries."""

    account: Account
    people: list[str]
    focus_area_id: str
    stranger_person_id: str
    stranger_focus_area_id: str


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Iterator[Diary]:
    with TestClient(app) as client:
        ana = register(client)
        people = [create_person(client, ana, name=f"P{i}")["id"] for i in range(21)]
        focus_area_id = create_focus_area(client, ana)["id"]
        bob = register(client, name="Bob")
        yield Diary(
            account=ana,
            people=people,
            focus_area_id=focus_area_id,
            stranger_person_id=create_person(client, bob)["id"],
            stranger_focus_area_id=create_focus_area(client, bob)["id"],
        )


def assert_nothing_stored(client: TestClient, account: Account, entry_id: str) -> None:
    assert client.get(f"/v1/entries/{entry_id}", headers=account.headers).status_code == 404
    listed = client.get("/v1/entries", headers=account.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next_cursor": None}


def without(field: str) -> Callable[[Diary], dict[str, Any]]:
    def build(_d: Diary) -> dict[str, Any]:
        body = entry_body()
        del body[field]
        return body

    return build


def with_(**overrides: Any) -> Callable[[Diary], dict[str, Any]]:
    return lambda _d: entry_body(**overrides)


# (case id, body builder, the field the 422 must name)
REJECTED: list[tuple[str, Callable[[Diary], dict[str, Any]], str]] = [
    ("occurred_at missing", without("occurred_at"), "body.occurred_at"),
    ("occurred_at naive", with_(occurred_at="2026-11-20T18:30:00"), "body.occurred_at"),
    ("occurred_at date only", with_(occurred_at="2026-11-20"), "body.occurred_at"),
    ("occurred_at garbage", with_(occurred_at="yesterday evening"), "body.occurred_at"),
    ("occurred_at null", with_(occurred_at=None), "body.occurred_at"),
    ("mood missing", without("mood"), "body.mood"),
    ("mood below 0", with_(mood=-1), "body.mood"),
    ("mood above 10", with_(mood=11), "body.mood"),
    ("mood fractional", with_(mood=5.5), "body.mood"),
    ("mood null", with_(mood=None), "body.mood"),
    ("event missing", without("event"), "body.event"),
    ("event empty", with_(event=""), "body.event"),
    ("event 4001 chars", with_(event="x" * 4001), "body.event"),
    ("event_type unknown", with_(event_type="party"), "body.event_type"),
    ("focus_area_id not a uuid", with_(focus_area_id="abc"), "body.focus_area_id"),
    ("focus_area_id unknown", with_(focus_area_id=str(uuid.uuid4())), "body.focus_area_id"),
    (
        "focus_area_id of another client",
        lambda d: entry_body(focus_area_id=d.stranger_focus_area_id),
        "body.focus_area_id",
    ),
    (
        "21 people",
        lambda d: entry_body(people=[{"person_id": p} for p in d.people[:21]]),
        "body.people",
    ),
    (
        "same person twice",
        lambda d: entry_body(people=[{"person_id": d.people[0]}, {"person_id": d.people[0]}]),
        "body.people.1.person_id",
    ),
    (
        "unknown person",
        with_(people=[{"person_id": str(uuid.uuid4())}]),
        "body.people.0.person_id",
    ),
    (
        "person of another client",
        lambda d: entry_body(
            people=[{"person_id": d.people[0]}, {"person_id": d.stranger_person_id}]
        ),
        "body.people.1.person_id",
    ),
    (
        "quality below -2",
        lambda d: entry_body(people=[{"person_id": d.people[0], "quality": -3}]),
        "body.people.0.quality",
    ),
    (
        "quality above 2",
        lambda d: entry_body(people=[{"person_id": d.people[0], "quality": 3}]),
        "body.people.0.quality",
    ),
    (
        "person without person_id",
        with_(people=[{"quality": 1}]),
        "body.people.0.person_id",
    ),
    (
        "21 emotions",
        with_(emotions=[{"label": "sad", "intensity": 1}] * 21),
        "body.emotions",
    ),
    (
        "intensity below 0",
        with_(emotions=[{"label": "sad", "intensity": -1}]),
        "body.emotions.0.intensity",
    ),
    (
        "intensity above 10",
        with_(emotions=[{"label": "sad", "intensity": 11}]),
        "body.emotions.0.intensity",
    ),
    (
        "intensity missing",
        with_(emotions=[{"label": "sad"}]),
        "body.emotions.0.intensity",
    ),
    (
        "label 41 chars",
        with_(emotions=[{"label": "a" * 41, "intensity": 3}]),
        "body.emotions.0.label",
    ),
    (
        "label 41 chars after collapsing spaces",
        with_(emotions=[{"label": "a" * 20 + "     " + "b" * 20, "intensity": 3}]),
        "body.emotions.0.label",
    ),
    (
        "label only whitespace",
        with_(emotions=[{"label": "   ", "intensity": 3}]),
        "body.emotions.0.label",
    ),
    (
        "emotion about a person not in the entry",
        lambda d: entry_body(
            people=[{"person_id": d.people[0]}],
            emotions=[{"label": "hurt", "intensity": 5, "person_id": d.people[1]}],
        ),
        "body.emotions.0.person_id",
    ),
    (
        "emotion about a person while the entry names nobody",
        lambda d: entry_body(
            emotions=[{"label": "hurt", "intensity": 5, "person_id": d.people[0]}]
        ),
        "body.emotions.0.person_id",
    ),
    *[
        (
            f"communication {name} 2001 chars",
            with_(communication={name: "x" * 2001}),
            f"body.communication.{name}",
        )
        for name in COMMUNICATION_FIELDS
    ],
    (
        "communication unknown field",
        with_(communication={"what_i_thought": "x"}),
        "body.communication.what_i_thought",
    ),
    ("21 tags", with_(tags=[f"t{i}" for i in range(21)]), "body.tags"),
    ("tags not a list", with_(tags="family"), "body.tags"),
    ("private not a bool", with_(private="perhaps"), "body.private"),
    ("id not a uuid", with_(id="entry-1"), "body.id"),
    ("owner_id sent", lambda d: entry_body(owner_id=d.account.id), "body.owner_id"),
    ("created_at sent", with_(created_at="2020-01-01T00:00:00Z"), "body.created_at"),
    ("updated_at sent", with_(updated_at="2020-01-01T00:00:00Z"), "body.updated_at"),
    ("version sent", with_(version=7), "body.version"),
    ("unknown field", with_(weather="rain"), "body.weather"),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=name) for name, b, f in REJECTED]
)
def test_invalid_entry_is_refused_and_not_stored(
    client: TestClient, diary: Diary, build: Callable[[Diary], dict[str, Any]], field: str
) -> None:
    body = build(diary)
    entry_id = str(uuid.uuid4())
    if "id" not in body:
        body["id"] = entry_id
    response = client.post("/v1/entries", json=body, headers=diary.account.headers)
    assert_problem(response, 422, field)
    assert_nothing_stored(client, diary.account, entry_id)


def test_body_that_is_not_an_object_is_refused(client: TestClient, diary: Diary) -> None:
    response = client.post("/v1/entries", json=[entry_body()], headers=diary.account.headers)
    assert_problem(response, 422, "body")
    assert_nothing_stored(client, diary.account, str(uuid.uuid4()))


def test_every_invalid_field_is_listed(client: TestClient, diary: Diary) -> None:
    entry_id = str(uuid.uuid4())
    response = client.post(
        "/v1/entries",
        json={"id": entry_id, "occurred_at": "2026-11-20T18:30:00", "mood": 11, "event": ""},
        headers=diary.account.headers,
    )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert {"body.occurred_at", "body.mood", "body.event"} <= fields
    assert_nothing_stored(client, diary.account, entry_id)


# --- values on the edge of a bound are accepted ------------------------------------------


@pytest.fixture(scope="module")
def writer(app: FastAPI) -> Iterator[Account]:
    """An account the accepted cases write to; each case reads back only its own entry."""
    with TestClient(app) as client:
        yield register(client, name="Writer")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"mood": 0}, {"mood": 0}, id="mood 0"),
        pytest.param({"mood": 10}, {"mood": 10}, id="mood 10"),
        pytest.param({"event": "x"}, {"event": "x"}, id="event 1 char"),
        pytest.param({"event": "é" * 4000}, {"event": "é" * 4000}, id="event 4000 chars"),
        pytest.param(
            {"occurred_at": "2026-11-20T23:30:00-05:00"},
            {"occurred_at": "2026-11-20T23:30:00-05:00"},
            id="occurred_at with a negative offset",
        ),
        pytest.param(
            {"emotions": [{"label": "sad", "intensity": 0}, {"label": "calm", "intensity": 10}]},
            {
                "emotions": [
                    {"label": "sad", "intensity": 0, "person_id": None, "custom": False},
                    {"label": "calm", "intensity": 10, "person_id": None, "custom": False},
                ]
            },
            id="intensity 0 and 10",
        ),
        pytest.param(
            {"emotions": [{"label": "  " + "a" * 20 + "   " + "B" * 19 + " ", "intensity": 4}]},
            {
                "emotions": [
                    {
                        "label": "a" * 20 + " " + "b" * 19,
                        "intensity": 4,
                        "person_id": None,
                        "custom": True,
                    }
                ]
            },
            id="label 40 chars after normalisation",
        ),
        pytest.param(
            {"emotions": [{"label": "sad", "intensity": 1}] * 20},
            {
                "emotions": [{"label": "sad", "intensity": 1, "person_id": None, "custom": False}]
                * 20
            },
            id="20 emotions",
        ),
        pytest.param(
            {"communication": dict.fromkeys(COMMUNICATION_FIELDS, "y" * 2000)},
            {"communication": dict.fromkeys(COMMUNICATION_FIELDS, "y" * 2000)},
            id="communication 2000 chars each",
        ),
        pytest.param(
            {"tags": [f"t{i}" for i in range(20)]},
            {"tags": [f"t{i}" for i in range(20)]},
            id="20 tags",
        ),
    ],
)
def test_values_on_a_bound_are_accepted(
    client: TestClient, writer: Account, overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    created = create_entry(client, writer, **overrides)
    fetched = client.get(f"/v1/entries/{created['id']}", headers=writer.headers).json()
    for key, value in expected.items():
        assert created[key] == value
        assert fetched[key] == value


def test_twenty_people_with_every_quality_are_accepted(client: TestClient) -> None:
    ana = register(client)
    people = [create_person(client, ana, name=f"P{i}")["id"] for i in range(20)]
    qualities = [-2, -1, 0, 1, 2, None]
    named = [
        {"person_id": person_id, "quality": qualities[i % len(qualities)]}
        for i, person_id in enumerate(people)
    ]
    created = create_entry(
        client,
        ana,
        people=named,
        emotions=[{"label": "loved", "intensity": 6, "person_id": people[3]}],
    )
    fetched = client.get(f"/v1/entries/{created['id']}", headers=ana.headers).json()
    key = lambda p: p["person_id"]  # noqa: E731
    assert sorted(fetched["people"], key=key) == sorted(named, key=key)
    assert fetched["emotions"][0]["person_id"] == people[3]


# --- PATCH applies the same bounds, and a refused PATCH changes nothing --------------------


PATCH_REJECTED: list[tuple[str, Callable[[Diary], dict[str, Any]], str]] = [
    ("mood above 10", lambda _d: {"mood": 11}, "body.mood"),
    ("mood null", lambda _d: {"mood": None}, "body.mood"),
    ("event empty", lambda _d: {"event": ""}, "body.event"),
    ("event null", lambda _d: {"event": None}, "body.event"),
    ("event 4001 chars", lambda _d: {"event": "x" * 4001}, "body.event"),
    ("occurred_at naive", lambda _d: {"occurred_at": "2026-11-21T10:00:00"}, "body.occurred_at"),
    ("occurred_at null", lambda _d: {"occurred_at": None}, "body.occurred_at"),
    ("event_type unknown", lambda _d: {"event_type": "party"}, "body.event_type"),
    (
        "focus_area_id of another client",
        lambda d: {"focus_area_id": d.stranger_focus_area_id},
        "body.focus_area_id",
    ),
    (
        "person of another client",
        lambda d: {"people": [{"person_id": d.stranger_person_id}], "emotions": []},
        "body.people.0.person_id",
    ),
    (
        "same person twice",
        lambda d: {
            "people": [{"person_id": d.people[2]}, {"person_id": d.people[2]}],
            "emotions": [],
        },
        "body.people.1.person_id",
    ),
    (
        "21 people",
        lambda d: {"people": [{"person_id": p} for p in d.people[:21]]},
        "body.people",
    ),
    (
        "quality above 2",
        lambda d: {"people": [{"person_id": d.people[0], "quality": 3}]},
        "body.people.0.quality",
    ),
    (
        "emotion about a person the entry no longer names",
        lambda d: {"people": [{"person_id": d.people[1]}]},
        "body.emotions.0.person_id",
    ),
    (
        "21 emotions",
        lambda _d: {"emotions": [{"label": "sad", "intensity": 1}] * 21},
        "body.emotions",
    ),
    (
        "label 41 chars",
        lambda _d: {"emotions": [{"label": "z" * 41, "intensity": 1}]},
        "body.emotions.0.label",
    ),
    (
        "communication 2001 chars",
        lambda _d: {"communication": {"what_i_felt": "x" * 2001}},
        "body.communication.what_i_felt",
    ),
    ("21 tags", lambda _d: {"tags": [f"t{i}" for i in range(21)]}, "body.tags"),
    ("owner_id sent", lambda d: {"owner_id": d.stranger_person_id}, "body.owner_id"),
    ("version sent", lambda _d: {"version": 9}, "body.version"),
    ("created_at sent", lambda _d: {"created_at": "2020-01-01T00:00:00Z"}, "body.created_at"),
    ("id sent", lambda _d: {"id": str(uuid.uuid4())}, "body.id"),
]


@pytest.fixture(scope="module")
def patch_target(app: FastAPI, diary: Diary) -> Iterator[tuple[Diary, dict[str, Any]]]:
    """Another account with one entry (so `diary` itself keeps no entries)."""
    with TestClient(app) as client:
        cleo = register(client, name="Cleo")
        people = [create_person(client, cleo, name=f"C{i}")["id"] for i in range(3)]
        entry = create_entry(
            client,
            cleo,
            people=[{"person_id": people[0], "quality": 1}],
            emotions=[{"label": "hurt", "intensity": 5, "person_id": people[0]}],
        )
        yield (
            Diary(
                account=cleo,
                people=people + [str(uuid.uuid4()) for _ in range(18)],
                focus_area_id=create_focus_area(client, cleo)["id"],
                stranger_person_id=diary.people[0],
                stranger_focus_area_id=diary.focus_area_id,
            ),
            entry,
        )


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=name) for name, b, f in PATCH_REJECTED]
)
def test_invalid_patch_is_refused_and_changes_nothing(
    client: TestClient,
    patch_target: tuple[Diary, dict[str, Any]],
    build: Callable[[Diary], dict[str, Any]],
    field: str,
) -> None:
    cleo, entry = patch_target
    response = client.patch(
        f"/v1/entries/{entry['id']}",
        json=build(cleo),
        headers={**cleo.account.headers, "If-Match": '"1"'},
    )
    assert_problem(response, 422, field)
    after = client.get(f"/v1/entries/{entry['id']}", headers=cleo.account.headers)
    assert after.headers["etag"] == '"1"'
    assert after.json() == entry
