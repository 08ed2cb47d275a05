"""Listing entries: newest first, cursor pagination, and every filter of DESIGN §2."""

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
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
    register,
)


def instant(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["occurred_at"])


def newest_first(entries: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(entries, key=lambda e: (instant(e), uuid.UUID(e["id"])), reverse=True)
    return [e["id"] for e in ordered]


def without_safety(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "safety"}


def walk(
    client: TestClient, account: Account, params: dict[str, Any] | None = None, limit: int = 50
) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following next_cursor to the end."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get("/v1/entries", params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 200, "pagination does not end"


# --- 120 entries, several sharing an occurred_at -------------------------------------------

BASE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3)), UTC]


@dataclass
class Diary:
    account: Account
    entries: list[dict[str, Any]]


@pytest.fixture(scope="module")
def hundred_twenty(app: FastAPI) -> Iterator[Diary]:
    """120 entries; each group of four shares one instant, written with different offsets."""
    with TestClient(app) as client:
        ana = register(client)
        entries = []
        for i in range(120):
            at = (BASE - timedelta(hours=(i * 7919) % 30)).astimezone(OFFSETS[i % 4])
            entries.append(create_entry(client, ana, occurred_at=at.isoformat(), mood=i % 11))
        yield Diary(account=ana, entries=entries)


def test_the_data_set_has_shared_timestamps(hundred_twenty: Diary) -> None:
    """Guard for the tests below: they only test the id tiebreak if instants repeat."""
    instants = [instant(e) for e in hundred_twenty.entries]
    assert len(set(instants)) == 30
    # Each answered on the clock it was written by.
    for index, entry in enumerate(hundred_twenty.entries):
        assert instant(entry).utcoffset() == OFFSETS[index % 4].utcoffset(None)


def test_pages_of_50_show_every_entry_once_newest_first(
    client: TestClient, hundred_twenty: Diary
) -> None:
    pages = walk(client, hundred_twenty.account, limit=50)
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [entry["id"] for page in pages for entry in page]
    assert seen == newest_first(hundred_twenty.entries)
    assert len(set(seen)) == 120
    # The listed entries are the full entries (the crisis `safety` note belongs to the
    # answer to a write, so it is left out of the comparison).
    by_id = {e["id"]: e for e in hundred_twenty.entries}
    for page in pages:
        for entry in page:
            assert without_safety(entry) == without_safety(by_id[entry["id"]])


@pytest.mark.parametrize(("limit", "sizes"), [(100, [100, 20]), (7, [7] * 17 + [1])])
def test_other_page_sizes_walk_the_same_order(
    client: TestClient, hundred_twenty: Diary, limit: int, sizes: list[int]
) -> None:
    pages = walk(client, hundred_twenty.account, limit=limit)
    assert [len(page) for page in pages] == sizes
    assert [e["id"] for page in pages for e in page] == newest_first(hundred_twenty.entries)


def test_default_page_size_is_50(client: TestClient, hundred_twenty: Diary) -> None:
    response = client.get("/v1/entries", headers=hundred_twenty.account.headers)
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["items"]] == newest_first(hundred_twenty.entries)[:50]
    assert body["next_cursor"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1000", "ten", "1.5"])
def test_a_limit_outside_1_to_100_is_refused_not_clamped(
    client: TestClient, hundred_twenty: Diary, limit: str
) -> None:
    response = client.get(
        "/v1/entries", params={"limit": limit}, headers=hundred_twenty.account.headers
    )
    assert_problem(response, 422, "query.limit")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("!!!!", id="not base64"),
        pytest.param(base64.urlsafe_b64encode(b"[1, 2, 3]").decode(), id="wrong shape"),
        pytest.param(base64.urlsafe_b64encode(b'{"a": 1}').decode(), id="an object"),
        pytest.param(
            base64.urlsafe_b64encode(json.dumps(["yesterday", "x"]).encode()).decode(),
            id="bad values",
        ),
        pytest.param("x" * 300, id="too long"),
    ],
)
def test_a_garbage_cursor_is_422(client: TestClient, hundred_twenty: Diary, cursor: str) -> None:
    response = client.get(
        "/v1/entries", params={"cursor": cursor}, headers=hundred_twenty.account.headers
    )
    assert_problem(response, 422, "query.cursor")


def test_people_and_focus_area_lists_refuse_bad_limits_and_cursors_too(
    client: TestClient, hundred_twenty: Diary
) -> None:
    headers = hundred_twenty.account.headers
    for path in ("/v1/people", "/v1/focus-areas"):
        assert client.get(path, headers=headers).json() == {"items": [], "next_cursor": None}
        assert_problem(client.get(path, params={"limit": 0}, headers=headers), 422, "query.limit")
        assert_problem(client.get(path, params={"limit": 101}, headers=headers), 422, "query.limit")
        assert_problem(
            client.get(path, params={"cursor": "garbage"}, headers=headers), 422, "query.cursor"
        )


# --- writes between pages ------------------------------------------------------------------


def test_entries_written_while_paging_cause_no_duplicates_or_gaps(client: TestClient) -> None:
    ana = register(client)
    originals = [
        create_entry(client, ana, occurred_at=(BASE - timedelta(hours=i // 2)).isoformat())
        for i in range(10)
    ]
    first = client.get("/v1/entries", params={"limit": 4}, headers=ana.headers).json()
    assert [e["id"] for e in first["items"]] == newest_first(originals)[:4]
    last_seen = first["items"][-1]

    older = create_entry(client, ana, occurred_at="2025-01-01T00:00:00Z")
    newer = create_entry(client, ana, occurred_at="2027-01-01T00:00:00Z")
    same_time = [create_entry(client, ana, occurred_at=last_seen["occurred_at"]) for _ in range(3)]

    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = client.get(
            "/v1/entries", params={"limit": 4, "cursor": cursor}, headers=ana.headers
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]

    assert len(seen) == len(set(seen)), "an entry was listed twice"
    assert {e["id"] for e in originals} <= set(seen), "an entry was skipped"
    assert older["id"] in seen
    assert newer["id"] not in seen  # it sorts before the page already fetched
    # Entries at the cursor's own instant land on whichever side their id puts them.
    after_cursor = {e["id"] for e in same_time if uuid.UUID(e["id"]) < uuid.UUID(last_seen["id"])}
    assert {e["id"] for e in same_time} & set(seen) == after_cursor
    assert seen[-1] == older["id"]


def test_deleting_a_listed_entry_while_paging_skips_nothing(client: TestClient) -> None:
    ana = register(client)
    originals = [
        create_entry(client, ana, occurred_at=(BASE - timedelta(minutes=i)).isoformat())
        for i in range(9)
    ]
    first = client.get("/v1/entries", params={"limit": 3}, headers=ana.headers).json()
    removed = first["items"][-1]["id"]
    deleted = client.delete(f"/v1/entries/{removed}", headers={**ana.headers, "If-Match": "*"})
    assert deleted.status_code == 204
    rest = client.get(
        "/v1/entries", params={"limit": 50, "cursor": first["next_cursor"]}, headers=ana.headers
    ).json()
    seen = [e["id"] for e in first["items"]] + [e["id"] for e in rest["items"]]
    assert seen == newest_first(originals)


# --- filters -----------------------------------------------------------------------------


@dataclass
class Filtered:
    account: Account
    entries: dict[str, dict[str, Any]]
    mum: str
    sam: str
    f1: str
    f2: str


@pytest.fixture(scope="module")
def filtered(app: FastAPI) -> Iterator[Filtered]:
    with TestClient(app) as client:
        ana = register(client)
        mum = create_person(client, ana, name="Mum", relationship="parent")["id"]
        sam = create_person(client, ana, name="Sam")["id"]
        f1 = create_focus_area(client, ana, problem_area="role_dispute", title="Mum")["id"]
        f2 = create_focus_area(client, ana, problem_area="grief", title="Dad")["id"]

        def entry(at: str, mood: int, people: list[str], emotions: list[Any], focus: Any) -> Any:
            return create_entry(
                client,
                ana,
                occurred_at=at,
                mood=mood,
                people=[{"person_id": p} for p in people],
                emotions=emotions,
                focus_area_id=focus,
            )

        hurt = {"label": "hurt", "intensity": 6}
        entries = {
            "e1": entry("2026-03-01T09:00:00Z", 2, [mum], [hurt], f1),
            "e2": entry(
                "2026-03-02T09:00:00Z",
                5,
                [mum, sam],
                [{"label": "Weird Feeling", "intensity": 3, "person_id": sam}],
                f1,
            ),
            "e3": entry(
                "2026-03-03T09:00:00Z", 8, [sam], [{"label": "happy", "intensity": 7}, hurt], f2
            ),
            "e4": entry("2026-03-04T09:00:00Z", 0, [], [], None),
            "e5": entry(
                "2026-03-05T09:00:00Z",
                10,
                [sam],
                [{"label": "Happy", "intensity": 9, "person_id": sam}],
                None,
            ),
            # Same instant as e3, written in another offset.
            "e6": entry(
                "2026-03-03T11:00:00+02:00",
                6,
                [mum],
                [{"label": "ANXIOUS", "intensity": 8, "person_id": mum}],
                f2,
            ),
        }
        yield Filtered(account=ana, entries=entries, mum=mum, sam=sam, f1=f1, f2=f2)


ALL = ["e1", "e2", "e3", "e4", "e5", "e6"]
FILTER_CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("no filter", {}, ALL),
    ("from is inclusive", {"from": "2026-03-03T09:00:00Z"}, ["e3", "e4", "e5", "e6"]),
    ("from with an offset", {"from": "2026-03-03T10:00:00+01:00"}, ["e3", "e4", "e5", "e6"]),
    ("from just after", {"from": "2026-03-03T09:00:00.000001Z"}, ["e4", "e5"]),
    ("to is exclusive", {"to": "2026-03-03T09:00:00Z"}, ["e1", "e2"]),
    ("to with an offset", {"to": "2026-03-03T04:00:00-05:00"}, ["e1", "e2"]),
    ("to just after", {"to": "2026-03-03T09:00:00.000001Z"}, ["e1", "e2", "e3", "e6"]),
    (
        "from and to",
        {"from": "2026-03-02T09:00:00Z", "to": "2026-03-04T09:00:00Z"},
        ["e2", "e3", "e6"],
    ),
    ("from equals to", {"from": "2026-03-02T09:00:00Z", "to": "2026-03-02T09:00:00Z"}, []),
    ("person Mum", {"person_id": "mum"}, ["e1", "e2", "e6"]),
    ("person Sam", {"person_id": "sam"}, ["e2", "e3", "e5"]),
    ("person unknown", {"person_id": str(uuid.uuid4())}, []),
    ("focus area 1", {"focus_area_id": "f1"}, ["e1", "e2"]),
    ("focus area 2", {"focus_area_id": "f2"}, ["e3", "e6"]),
    ("focus area unknown", {"focus_area_id": str(uuid.uuid4())}, []),
    ("emotion", {"emotion": "hurt"}, ["e1", "e3"]),
    ("emotion upper case", {"emotion": "HURT"}, ["e1", "e3"]),
    ("emotion padded", {"emotion": "  Hurt "}, ["e1", "e3"]),
    ("emotion written capitalised", {"emotion": "happy"}, ["e3", "e5"]),
    ("emotion written in capitals", {"emotion": "Anxious"}, ["e6"]),
    ("custom emotion", {"emotion": "weird   FEELING"}, ["e2"]),
    ("emotion nobody felt", {"emotion": "sad"}, []),
    ("mood_min", {"mood_min": "8"}, ["e3", "e5"]),
    ("mood_min 0", {"mood_min": "0"}, ALL),
    ("mood_min 10", {"mood_min": "10"}, ["e5"]),
    ("mood_max", {"mood_max": "2"}, ["e1", "e4"]),
    ("mood_max 0", {"mood_max": "0"}, ["e4"]),
    ("mood_max 10", {"mood_max": "10"}, ALL),
    ("mood range", {"mood_min": "5", "mood_max": "6"}, ["e2", "e6"]),
    ("person and mood", {"person_id": "sam", "mood_min": "6"}, ["e3", "e5"]),
    ("person and focus area", {"person_id": "mum", "focus_area_id": "f2"}, ["e6"]),
    ("emotion and from", {"emotion": "happy", "from": "2026-03-04T00:00:00Z"}, ["e5"]),
    (
        "focus area, emotion and mood",
        {"focus_area_id": "f1", "emotion": "hurt", "mood_max": "3"},
        ["e1"],
    ),
    (
        "everything",
        {
            "from": "2026-03-01T00:00:00Z",
            "to": "2026-03-04T00:00:00Z",
            "person_id": "sam",
            "focus_area_id": "f2",
            "emotion": "HAPPY",
            "mood_min": "8",
            "mood_max": "8",
        },
        ["e3"],
    ),
]


def resolve(filtered: Filtered, params: dict[str, str]) -> dict[str, str]:
    names = {"mum": filtered.mum, "sam": filtered.sam, "f1": filtered.f1, "f2": filtered.f2}
    return {key: names.get(value, value) for key, value in params.items()}


@pytest.mark.parametrize(
    ("params", "expected"), [pytest.param(p, e, id=n) for n, p, e in FILTER_CASES]
)
def test_filters(
    client: TestClient, filtered: Filtered, params: dict[str, str], expected: list[str]
) -> None:
    response = client.get(
        "/v1/entries", params=resolve(filtered, params), headers=filtered.account.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    got = [e["id"] for e in response.json()["items"]]
    assert got == newest_first([filtered.entries[name] for name in expected])


def test_filters_hold_across_pages(client: TestClient, filtered: Filtered) -> None:
    params = resolve(filtered, {"person_id": "mum", "to": "2026-03-05T00:00:00Z"})
    pages = walk(client, filtered.account, params, limit=1)
    assert [len(page) for page in pages] == [1, 1, 1]
    expected = [filtered.entries[name] for name in ("e1", "e2", "e6")]
    assert [page[0]["id"] for page in pages] == newest_first(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"from": "2026-03-03T09:00:00"}, "query.from", id="naive from"),
        pytest.param({"to": "2026-03-03T09:00:00"}, "query.to", id="naive to"),
        pytest.param({"from": "last week"}, "query.from", id="garbage from"),
        pytest.param({"to": "2026-13-01T00:00:00Z"}, "query.to", id="impossible to"),
        pytest.param({"person_id": "mum"}, "query.person_id", id="person_id not a uuid"),
        pytest.param({"focus_area_id": "f1"}, "query.focus_area_id", id="focus_area_id not a uuid"),
        pytest.param({"mood_min": "-1"}, "query.mood_min", id="mood_min -1"),
        pytest.param({"mood_min": "11"}, "query.mood_min", id="mood_min 11"),
        pytest.param({"mood_max": "11"}, "query.mood_max", id="mood_max 11"),
        pytest.param({"mood_max": "low"}, "query.mood_max", id="mood_max not a number"),
        pytest.param({"emotion": "   "}, "query.emotion", id="blank emotion"),
    ],
)
def test_invalid_filters_are_422(
    client: TestClient, filtered: Filtered, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/entries", params=params, headers=filtered.account.headers)
    assert_problem(response, 422, field)
