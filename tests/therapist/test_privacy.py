"""Private entries are invisible to a therapist everywhere, summaries included.

Ana keeps a diary in which some entries are private. A second account, the mirror, holds the
very same people, focus areas, sessions, measures and shared entries (with the same ids) and
none of the private entries. What the therapist sees of Ana must be exactly what the mirror
sees of itself; a few numbers are also checked by hand, and Ana's own view is checked to be
different (so the private entries do weigh in where they are allowed to).
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    list_all,
    register,
    share_with,
)

TIMEZONE = "America/New_York"

PEOPLE = {
    "mum": {"name": "Mum", "relationship": "parent", "closeness": 1},
    "sam": {"name": "Sam", "relationship": "friend", "closeness": 2},
    # Named in private entries only; Ex is archived afterwards.
    "ex": {"name": "Ex", "relationship": "partner", "closeness": 3},
    "boss": {"name": "Boss", "relationship": "colleague", "closeness": 3},
}
FOCUS_AREAS = {
    "dispute": {"problem_area": "role_dispute", "title": "Mum", "dispute_stage": "impasse"},
    "job": {"problem_area": "role_transition", "title": "New job"},
}
SESSIONS = {
    "s1": {"held_at": "2026-11-02T17:00:00+00:00", "number": 1},
    "s2": {"held_at": "2026-11-09T17:00:00+00:00", "number": 2},
    "s3": {"held_at": "2026-11-16T17:00:00+00:00", "number": 3},
}
MEASURES = {
    "m1": {"instrument": "phq9", "answers": [1] * 9, "completed_at": "2026-11-08T09:00:00+00:00"},
    "m2": {"instrument": "gad7", "answers": [2] * 7, "completed_at": "2026-11-15T09:00:00+00:00"},
}


@dataclass(frozen=True)
class E:
    """An entry of the diary: people as (key, quality), emotions as (label, intensity, key)."""

    at: str
    mood: int
    people: tuple[tuple[str, int | None], ...] = ()
    emotions: tuple[tuple[str, int, str | None], ...] = ()
    focus: str | None = None
    private: bool = False


ENTRIES = {
    "e1": E("2026-11-03T15:00:00+00:00", 4, (("mum", -1),), (("hurt", 6, "mum"),), "dispute"),
    "e2": E("2026-11-04T23:00:00+00:00", 7, (("sam", 2),), (("joyful", 7, None),), "job"),
    "p1": E(
        "2026-11-05T22:00:00+00:00", 0, (("ex", -2),), (("ashamed", 9, "ex"),), "dispute", True
    ),
    "e3": E(
        "2026-11-10T14:00:00+00:00",
        5,
        (("mum", 0), ("sam", 1)),
        (("anxious", 4, None), ("hurt", 3, "mum")),
        "dispute",
    ),
    "p2": E(
        "2026-11-11T23:30:00+00:00",
        1,
        (("mum", -2), ("boss", None)),
        (("angry", 8, None), ("hurt", 9, "mum")),
        "job",
        True,
    ),
    "e4": E("2026-11-12T20:00:00+00:00", 6, (), (("calm", 5, None),)),
    # The only entry of its local day (and of its person Sam that week): private.
    "p3": E("2026-11-14T15:00:00+00:00", 9, (("sam", 2),), (("joyful", 10, None),), None, True),
    "e5": E("2026-11-17T13:00:00+00:00", 3, (("mum", None),), (), "dispute"),
    # The latest entry of all, private: last_entry_at must not show it.
    "p4": E(
        "2026-11-20T12:00:00+00:00", 2, (("boss", -1),), (("stressed", 7, "boss"),), "job", True
    ),
}
SHARED = [key for key, entry in ENTRIES.items() if not entry.private]
PRIVATE = [key for key, entry in ENTRIES.items() if entry.private]


@dataclass
class Views:
    http: TestClient
    ana: Account
    mirror: Account
    therapist: Account
    ids: dict[str, str]  # key → id, the same in Ana's diary and in the mirror

    def therapist_get(self, view: str, **params: Any) -> Any:
        response = self.http.get(
            f"/v1/therapist/clients/{self.ana.id}/{view}",
            params=params,
            headers=self.therapist.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def own(self, account: Account, view: str, **params: Any) -> Any:
        response = self.http.get(f"/v1/{view}", params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def therapist_entry_ids(self, **filters: Any) -> set[str]:
        items = list_all(
            self.http, self.therapist, f"/v1/therapist/clients/{self.ana.id}/entries", **filters
        )
        return {item["id"] for item in items}

    def keys(self, ids: set[str]) -> set[str]:
        by_id = {value: key for key, value in self.ids.items()}
        return {by_id.get(entry_id, entry_id) for entry_id in ids}


def write_diary(http: TestClient, account: Account, ids: dict[str, str], private: bool) -> None:
    """The diary under `ids`; with `private` False, without the private entries."""
    for key, person in PEOPLE.items():
        extra = {"id": ids[key]} if key in ids else {}
        ids.setdefault(key, create_person(http, account, **person, **extra)["id"])
    for key, area in FOCUS_AREAS.items():
        extra = {"id": ids[key]} if key in ids else {}
        ids.setdefault(key, create_focus_area(http, account, **area, **extra)["id"])
    for key, session in SESSIONS.items():
        extra = {"id": ids[key]} if key in ids else {}
        ids.setdefault(key, create_session(http, account, **session, **extra)["id"])
    for key, measure in MEASURES.items():
        extra = {"id": ids[key]} if key in ids else {}
        ids.setdefault(key, create_measure(http, account, **measure, **extra)["id"])
    for key, entry in ENTRIES.items():
        if entry.private and not private:
            continue
        body: dict[str, Any] = {
            "occurred_at": entry.at,
            "mood": entry.mood,
            "event": f"entry {key}",
            "private": entry.private,
            "focus_area_id": ids[entry.focus] if entry.focus else None,
            "people": [{"person_id": ids[who], "quality": q} for who, q in entry.people],
            "emotions": [
                {"label": label, "intensity": level, "person_id": ids[who] if who else None}
                for label, level, who in entry.emotions
            ],
        }
        if key in ids:
            body["id"] = ids[key]
        ids.setdefault(key, create_entry(http, account, **body)["id"])
    # Ex is archived in Ana's diary (private entries name them); the mirror deletes them.
    response = http.delete(f"/v1/people/{ids['ex']}", headers={**account.headers, "If-Match": "*"})
    assert response.status_code == 204, response.text


@pytest.fixture(scope="module")
def views(app: FastAPI) -> Iterator[Views]:
    with TestClient(app, raise_server_exceptions=False) as http:
        ana = register(http, name="Ana", timezone=TIMEZONE)
        mirror = register(http, name="Mirror", timezone=TIMEZONE)
        therapist = register(http, role="therapist", name="Dr Lee")
        ids: dict[str, str] = {}
        write_diary(http, ana, ids, private=True)
        write_diary(http, mirror, dict(ids), private=False)
        share_with(http, ana, therapist, "full")
        yield Views(http, ana, mirror, therapist, ids)


def same(got: Any, expected: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 (the same SQL over the same rows)."""
    if isinstance(expected, float) and isinstance(got, float):
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), where
    elif isinstance(expected, dict) and isinstance(got, dict):
        assert got.keys() == expected.keys(), where
        for key in expected:
            same(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list) and isinstance(got, list):
        assert len(got) == len(expected), f"{where}: {got} != {expected}"
        for index, (left, right) in enumerate(zip(got, expected, strict=True)):
            same(left, right, f"{where}[{index}]")
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


# --- entries ---------------------------------------------------------------------------------


def test_the_therapist_lists_exactly_the_shared_entries(views: Views) -> None:
    items = list_all(views.http, views.therapist, f"/v1/therapist/clients/{views.ana.id}/entries")
    assert views.keys({item["id"] for item in items}) == set(SHARED)
    assert all(item["private"] is False for item in items)
    own = list_all(views.http, views.ana, "/v1/entries")
    assert views.keys({item["id"] for item in own}) == set(ENTRIES)


def test_pages_of_the_therapists_list_hold_no_private_entry(views: Views) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(len(ENTRIES) + 1):
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = views.therapist_get("entries", **params)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert views.keys(set(seen)) == set(SHARED)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"person_id": "mum"}, {"e1", "e3", "e5"}, id="person mum"),
        pytest.param({"person_id": "sam"}, {"e2", "e3"}, id="person sam"),
        pytest.param({"person_id": "ex"}, set(), id="person named in private entries only"),
        pytest.param({"person_id": "boss"}, set(), id="another person of private entries"),
        pytest.param({"focus_area_id": "dispute"}, {"e1", "e3", "e5"}, id="focus area"),
        pytest.param({"focus_area_id": "job"}, {"e2"}, id="focus area of private entries"),
        pytest.param({"emotion": "hurt"}, {"e1", "e3"}, id="emotion"),
        pytest.param({"emotion": "ashamed"}, set(), id="emotion of a private entry only"),
        pytest.param({"mood_max": 3}, {"e5"}, id="low moods"),
        pytest.param({"mood_min": 8}, set(), id="high moods"),
        pytest.param(
            {"from": "2026-11-05T00:00:00Z", "to": "2026-11-15T00:00:00Z"},
            {"e3", "e4"},
            id="time range",
        ),
    ],
)
def test_filters_never_reach_a_private_entry(
    views: Views, filters: dict[str, Any], expected: set[str]
) -> None:
    params = {
        name: views.ids[value] if name.endswith("_id") else value for name, value in filters.items()
    }
    assert views.keys(views.therapist_entry_ids(**params)) == expected
    mirror = list_all(views.http, views.mirror, "/v1/entries", **params)
    assert views.keys({item["id"] for item in mirror}) == expected


# --- summaries -------------------------------------------------------------------------------


def test_mood_by_person_counts_only_shared_entries(views: Views) -> None:
    seen = views.therapist_get("summaries/mood-by-person")
    same(seen, views.own(views.mirror, "summaries/mood-by-person"))
    shared_moods = [ENTRIES[key].mood for key in SHARED]
    assert seen["baseline"] == {
        "entries": len(SHARED),
        "mean_mood": pytest.approx(sum(shared_moods) / len(shared_moods)),
    }
    people = {views.keys({row["person_id"]}).pop(): row for row in seen["people"]}
    assert "ex" not in people  # archived, and named only in a private entry
    assert people["boss"]["entries"] == 0
    assert people["boss"]["top_emotions"] == []
    mum = people["mum"]
    assert mum["entries"] == 3
    assert mum["mean_mood"] == pytest.approx((4 + 5 + 3) / 3)
    assert mum["mean_mood_without"] == pytest.approx((7 + 6) / 2)
    assert mum["mean_quality"] == pytest.approx((-1 + 0) / 2)
    assert {e["label"]: (e["count"], e["mean_intensity"]) for e in mum["top_emotions"]} == {
        "hurt": (2, pytest.approx(4.5)),
        "anxious": (1, pytest.approx(4.0)),
    }
    assert people["sam"]["entries"] == 2
    # Ana herself sees every entry.
    assert views.own(views.ana, "summaries/mood-by-person")["baseline"]["entries"] == len(ENTRIES)


@pytest.mark.parametrize("bucket", ["day", "week"])
def test_the_mood_timeline_has_only_shared_entries(views: Views, bucket: str) -> None:
    seen = views.therapist_get("summaries/mood-timeline", bucket=bucket)
    same(seen, views.own(views.mirror, "summaries/mood-timeline", bucket=bucket))
    assert sum(point["entries"] for point in seen["points"]) == len(SHARED)
    assert seen["timezone"] == TIMEZONE
    if bucket == "day":
        starts = {point["start"] for point in seen["points"]}
        # p3's and p4's local days hold nothing else.
        assert "2026-11-14" not in starts
        assert "2026-11-20" not in starts
        assert min(point["min_mood"] for point in seen["points"]) == 3
    own = views.own(views.ana, "summaries/mood-timeline", bucket=bucket)
    assert sum(point["entries"] for point in own["points"]) == len(ENTRIES)


def test_focus_area_summaries_count_only_shared_entries(views: Views) -> None:
    seen = views.therapist_get("summaries/focus-areas")
    same(seen, views.own(views.mirror, "summaries/focus-areas"))
    areas = {views.keys({row["focus_area_id"]}).pop(): row for row in seen["focus_areas"]}
    assert areas["dispute"]["entries"] == 3
    assert areas["dispute"]["mean_mood"] == pytest.approx(4.0)
    assert areas["job"]["entries"] == 1
    assert areas["job"]["last_at"].startswith("2026-11-04T23:00:00")
    assert areas["job"]["trend_per_week"] is None  # one shared entry: no trend


@pytest.mark.parametrize("session", [None, "s2", "s3"])
def test_between_sessions_count_only_shared_entries(views: Views, session: str | None) -> None:
    params = {"session_id": views.ids[session]} if session else {}
    seen = views.therapist_get("summaries/between-sessions", **params)
    same(seen, views.own(views.mirror, "summaries/between-sessions", **params))
    lowest = {row["id"] for row in seen["lowest_mood_entries"]}
    assert views.keys(lowest) <= set(SHARED)
    labels = {row["label"] for row in seen["top_emotions"]}
    assert not labels & {"ashamed", "angry", "stressed"}


def test_between_sessions_by_hand(views: Views) -> None:
    # s2 → s3 holds e3 (5), e4 (6) and the private p2 (1), p3 (9); s1 → s2: e1 (4), e2 (7).
    seen = views.therapist_get("summaries/between-sessions", session_id=views.ids["s3"])
    assert seen["entries"] == 2
    assert seen["mean_mood"] == pytest.approx(5.5)
    assert seen["mean_mood_change"] == pytest.approx(5.5 - 5.5)
    assert {views.keys({p["person_id"]}).pop(): p["entries"] for p in seen["people"]} == {
        "mum": 1,
        "sam": 1,
    }
    # The latest interval (after s3) holds e5 and the private p4.
    latest = views.therapist_get("summaries/between-sessions")
    assert latest["entries"] == 1
    assert latest["mean_mood"] == pytest.approx(3.0)
    assert [views.keys({row["id"]}).pop() for row in latest["lowest_mood_entries"]] == ["e5"]
    assert views.own(views.ana, "summaries/between-sessions")["entries"] == 2


# --- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", ["json", "csv", "fhir"])
def test_the_therapists_export_holds_only_shared_entries(views: Views, export_format: str) -> None:
    response = views.http.get(
        f"/v1/therapist/clients/{views.ana.id}/export",
        params={"format": export_format},
        headers=views.therapist.headers,
    )
    assert response.status_code == 200, response.text
    for key in SHARED:
        assert views.ids[key] in response.text, key
    for key in PRIVATE:
        assert views.ids[key] not in response.text, key
        assert f"entry {key}" not in response.text, key
    if export_format == "json":
        entries = response.json()["entries"]
        assert views.keys({entry["id"] for entry in entries}) == set(SHARED)
    own = views.http.get("/v1/export", params={"format": export_format}, headers=views.ana.headers)
    assert own.status_code == 200
    assert all(views.ids[key] in own.text for key in PRIVATE)


# --- the list of clients ---------------------------------------------------------------------


def test_last_entry_at_ignores_private_entries(views: Views, client: TestClient) -> None:
    clients = list_all(client, views.therapist, "/v1/therapist/clients")
    (ana,) = [item for item in clients if item["client_id"] == views.ana.id]
    assert ana["last_entry_at"].startswith("2026-11-17T13:00:00")

    cleo = register(client, name="Cleo")
    create_entry(client, cleo, private=True, occurred_at="2026-11-21T10:00:00+00:00")
    share_with(client, cleo, views.therapist, "summaries")
    clients = list_all(client, views.therapist, "/v1/therapist/clients")
    (listed,) = [item for item in clients if item["client_id"] == cleo.id]
    assert listed["last_entry_at"] is None
    create_entry(client, cleo, occurred_at="2026-11-01T10:00:00+00:00")
    clients = list_all(client, views.therapist, "/v1/therapist/clients")
    (listed,) = [item for item in clients if item["client_id"] == cleo.id]
    assert listed["last_entry_at"].startswith("2026-11-01T10:00:00")
