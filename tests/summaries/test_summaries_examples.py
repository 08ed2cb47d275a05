"""Hand-checked summaries: small diaries whose expected numbers were worked out on paper."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    get_summary,
    register,
    set_timezone,
)


def client_in(client: TestClient, timezone: str) -> Account:
    account = register(client)
    set_timezone(client, account, timezone)
    return account


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def on_clock(at: str, zone: str) -> str:
    """An instant written on the zone's clock, as a device there writes it."""
    return datetime.fromisoformat(at).astimezone(ZoneInfo(zone)).isoformat()


def point(start: str, moods: list[int], people_count: int = 0) -> dict[str, Any]:
    return {
        "start": start,
        "entries": len(moods),
        "mean_mood": pytest.approx(sum(moods) / len(moods), rel=1e-9, abs=1e-9),
        "min_mood": min(moods),
        "max_mood": max(moods),
        "people_count": people_count,
    }


# --- mood timeline ------------------------------------------------------------------------


def test_london_spring_forward_day_puts_entries_on_the_local_days(client: TestClient) -> None:
    # 2026-03-29 is a Sunday; London goes from GMT (+00) to BST (+01) at 01:00 UTC. The
    # phone writes its own clock: 00:30 GMT on Sunday 29 March, then 00:30 BST on Monday
    # 30 March (23:30 UTC on Sunday).
    ana = client_in(client, "Europe/London")
    mum = create_person(client, ana, name="Mum")
    create_entry(
        client,
        ana,
        occurred_at="2026-03-29T00:30:00+00:00",
        mood=3,
        people=[{"person_id": mum["id"]}],
    )
    create_entry(client, ana, occurred_at="2026-03-30T00:30:00+01:00", mood=7)

    day = get_summary(client, ana, "mood-timeline", bucket="day")
    assert day == {
        "timezone": "Europe/London",
        "bucket": "day",
        "points": [point("2026-03-29", [3], people_count=1), point("2026-03-30", [7])],
    }
    week = get_summary(client, ana, "mood-timeline", bucket="week")
    assert week["points"] == [point("2026-03-23", [3], people_count=1), point("2026-03-30", [7])]


def test_a_move_to_another_zone_leaves_past_entries_on_their_days(client: TestClient) -> None:
    # Written in London either side of its spring-forward, then the client flies to New
    # York (which sprang forward three weeks earlier) and writes on New York's clock.
    ana = client_in(client, "Europe/London")
    create_entry(client, ana, occurred_at="2026-03-29T00:30:00+00:00", mood=3)
    create_entry(client, ana, occurred_at="2026-03-30T00:30:00+01:00", mood=7)
    before = get_summary(client, ana, "mood-timeline", bucket="day")["points"]

    set_timezone(client, ana, "America/New_York")
    # 20:30 EDT on Monday 30 March is 00:30 UTC on Tuesday: it counts on Monday.
    written = create_entry(client, ana, occurred_at="2026-03-30T20:30:00-04:00", mood=5)
    assert written["occurred_at"] == "2026-03-30T20:30:00-04:00"

    day = get_summary(client, ana, "mood-timeline", bucket="day")
    assert day["timezone"] == "America/New_York"
    assert day["points"][: len(before)] != before  # Monday gained the New York entry
    assert day["points"] == [point("2026-03-29", [3]), point("2026-03-30", [7, 5])]
    # Read back, each entry still shows the clock it was written on.
    listed = client.get("/v1/entries", headers=ana.headers).json()["items"]
    assert [entry["occurred_at"] for entry in listed] == [
        "2026-03-30T20:30:00-04:00",
        "2026-03-30T00:30:00+01:00",
        "2026-03-29T00:30:00Z",
    ]
    # Moving again changes nothing of the past.
    set_timezone(client, ana, "Asia/Kolkata")
    assert get_summary(client, ana, "mood-timeline", bucket="day")["points"] == day["points"]


def test_day_is_the_default_bucket(client: TestClient) -> None:
    ana = client_in(client, "Asia/Kolkata")
    create_entry(client, ana, occurred_at="2026-11-22T23:59:59+05:30", mood=4)  # Sunday, IST
    body = get_summary(client, ana, "mood-timeline")
    assert body["bucket"] == "day"
    assert body["points"] == [point("2026-11-22", [4])]


@pytest.mark.parametrize(
    ("zone", "sunday_night", "monday_midnight", "sunday", "sunday_week", "monday"),
    [
        # Sunday 23:59:59 and Monday 00:00:00 local time, as instants (written on the zone's
        # clock by the test).
        (
            "Asia/Kolkata",
            "2026-11-22T18:29:59Z",
            "2026-11-22T18:30:00Z",
            "2026-11-22",
            "2026-11-16",
            "2026-11-23",
        ),
        # New York's first Sunday on daylight time (EDT, -04).
        (
            "America/New_York",
            "2026-03-09T03:59:59Z",
            "2026-03-09T04:00:00Z",
            "2026-03-08",
            "2026-03-02",
            "2026-03-09",
        ),
        # Chatham has just fallen back to +12:45: its Monday starts on Sunday, UTC.
        (
            "Pacific/Chatham",
            "2026-04-05T11:14:59Z",
            "2026-04-05T11:15:00Z",
            "2026-04-05",
            "2026-03-30",
            "2026-04-06",
        ),
        # Lord Howe has just fallen back half an hour, to +10:30.
        (
            "Australia/Lord_Howe",
            "2026-04-05T13:29:59Z",
            "2026-04-05T13:30:00Z",
            "2026-04-05",
            "2026-03-30",
            "2026-04-06",
        ),
    ],
)
def test_week_buckets_split_at_local_monday_midnight(
    client: TestClient,
    zone: str,
    sunday_night: str,
    monday_midnight: str,
    sunday: str,
    sunday_week: str,
    monday: str,
) -> None:
    ana = client_in(client, zone)
    sam = create_person(client, ana, name="Sam")
    jo = create_person(client, ana, name="Jo")
    sunday_night, monday_midnight = (on_clock(at, zone) for at in (sunday_night, monday_midnight))
    create_entry(client, ana, occurred_at=sunday_night, mood=2, people=[{"person_id": sam["id"]}])
    create_entry(
        client,
        ana,
        occurred_at=monday_midnight,
        mood=6,
        people=[{"person_id": sam["id"]}, {"person_id": jo["id"]}],
    )
    create_entry(client, ana, occurred_at=monday_midnight, mood=9, people=[{"person_id": jo["id"]}])
    week = get_summary(client, ana, "mood-timeline", bucket="week")
    assert week == {
        "timezone": zone,
        "bucket": "week",
        "points": [point(sunday_week, [2], people_count=1), point(monday, [6, 9], 2)],
    }
    day = get_summary(client, ana, "mood-timeline", bucket="day")
    assert day["points"] == [point(sunday, [2], people_count=1), point(monday, [6, 9], 2)]


def test_timeline_without_entries_has_no_points(client: TestClient) -> None:
    ana = client_in(client, "Pacific/Chatham")
    for bucket in ("day", "week"):
        assert get_summary(client, ana, "mood-timeline", bucket=bucket) == {
            "timezone": "Pacific/Chatham",
            "bucket": bucket,
            "points": [],
        }


def test_an_unknown_bucket_is_refused(client: TestClient) -> None:
    ana = register(client)
    response = client.get(
        "/v1/summaries/mood-timeline", params={"bucket": "month"}, headers=ana.headers
    )
    assert_problem(response, 422, "query.bucket")


# --- mood by person -----------------------------------------------------------------------


def test_mood_by_person_worked_example(client: TestClient) -> None:
    ana = client_in(client, "Europe/London")
    mum = create_person(client, ana, name="Mum", relationship="parent", closeness=1)
    sam = create_person(client, ana, name="Sam", closeness=2)
    jo = create_person(client, ana, name="Jo", closeness=3)  # never named
    create_entry(
        client,
        ana,
        occurred_at="2026-11-02T09:00:00Z",
        mood=2,
        people=[{"person_id": mum["id"], "quality": -2}, {"person_id": sam["id"]}],
        emotions=[
            {"label": "hurt", "intensity": 8, "person_id": mum["id"]},  # Mum only
            {"label": "sad", "intensity": 4},  # both Mum and Sam
        ],
    )
    create_entry(
        client,
        ana,
        occurred_at="2026-11-03T09:00:00Z",
        mood=6,
        people=[{"person_id": sam["id"], "quality": 1}],
        emotions=[{"label": "calm", "intensity": 5}, {"label": "sad", "intensity": 2}],
        private=True,  # the client's own summaries include private entries
    )
    create_entry(
        client,
        ana,
        occurred_at="2026-11-04T09:00:00Z",
        mood=7,
        emotions=[{"label": "happy", "intensity": 6}],
    )

    body = get_summary(client, ana, "mood-by-person")
    assert body["timezone"] == "Europe/London"
    assert body["baseline"] == {"entries": 3, "mean_mood": 5.0}
    assert body["people"] == [
        {
            "person_id": sam["id"],
            "name": "Sam",
            "closeness": 2,
            "entries": 2,
            "mean_mood": 4.0,  # (2 + 6) / 2
            "mean_mood_without": 7.0,
            "delta": -3.0,
            "delta_ci95": None,  # one entry without Sam: no spread to measure
            "enough": False,
            "mean_quality": 1.0,  # the unrated contact does not count
            "top_emotions": [
                {"label": "sad", "count": 2, "mean_intensity": 3.0},
                {"label": "calm", "count": 1, "mean_intensity": 5.0},
            ],
        },
        {
            "person_id": mum["id"],
            "name": "Mum",
            "closeness": 1,
            "entries": 1,
            "mean_mood": 2.0,
            "mean_mood_without": 6.5,  # (6 + 7) / 2
            "delta": -4.5,
            "delta_ci95": None,
            "enough": False,
            "mean_quality": -2.0,
            "top_emotions": [
                {"label": "hurt", "count": 1, "mean_intensity": 8.0},
                {"label": "sad", "count": 1, "mean_intensity": 4.0},
            ],
        },
        {
            "person_id": jo["id"],
            "name": "Jo",
            "closeness": 3,
            "entries": 0,
            "mean_mood": None,
            "mean_mood_without": 5.0,  # every entry leaves Jo out
            "delta": None,
            "delta_ci95": None,
            "enough": False,
            "mean_quality": None,
            "top_emotions": [],
        },
    ]


def test_top_emotions_are_five_by_count_then_label(client: TestClient) -> None:
    ana = register(client)
    sam = create_person(client, ana, name="Sam")
    counts = {"worried": 3, "calm": 2, "angry": 2, "sad": 1, "lonely": 1, "hurt": 1, "amused": 1}
    create_entry(
        client,
        ana,
        mood=4,
        people=[{"person_id": sam["id"]}],
        emotions=[
            {"label": label, "intensity": 2 * i + 1}
            for label, n in counts.items()
            for i in range(n)
        ],
    )
    person = get_summary(client, ana, "mood-by-person")["people"][0]
    assert person["top_emotions"] == [
        {"label": "worried", "count": 3, "mean_intensity": 3.0},  # 1, 3, 5
        {"label": "angry", "count": 2, "mean_intensity": 2.0},  # 1, 3
        {"label": "calm", "count": 2, "mean_intensity": 2.0},
        {"label": "amused", "count": 1, "mean_intensity": 1.0},
        {"label": "hurt", "count": 1, "mean_intensity": 1.0},
    ]


def test_people_tied_on_entries_are_ordered_by_id(client: TestClient) -> None:
    ana = register(client)
    people = [create_person(client, ana, name=f"P{i}") for i in range(4)]
    create_entry(client, ana, mood=5, people=[{"person_id": p["id"]} for p in people[:2]])
    listed = [p["person_id"] for p in get_summary(client, ana, "mood-by-person")["people"]]
    named = sorted(p["id"] for p in people[:2])
    unnamed = sorted(p["id"] for p in people[2:])
    assert listed == named + unnamed


def test_archived_people_appear_only_when_named_in_the_range(client: TestClient) -> None:
    ana = register(client)
    ex = create_person(client, ana, name="Ex", relationship="ex_partner")
    create_entry(
        client, ana, occurred_at="2026-10-01T12:00:00Z", mood=3, people=[{"person_id": ex["id"]}]
    )
    create_entry(client, ana, occurred_at="2026-11-01T12:00:00Z", mood=8)
    deleted = client.delete(f"/v1/people/{ex['id']}", headers={**ana.headers, "If-Match": "*"})
    assert deleted.status_code == 204

    everything = get_summary(client, ana, "mood-by-person")
    assert [(p["name"], p["entries"], p["mean_mood"]) for p in everything["people"]] == [
        ("Ex", 1, 3.0)
    ]
    november = get_summary(client, ana, "mood-by-person", **{"from": "2026-10-15T00:00:00Z"})
    assert november["baseline"] == {"entries": 1, "mean_mood": 8.0}
    assert november["people"] == []


def test_from_is_inclusive_and_to_exclusive(client: TestClient) -> None:
    ana = client_in(client, "America/New_York")
    sam = create_person(client, ana, name="Sam")
    area = create_focus_area(client, ana)
    for at, mood in [
        ("2026-11-20T09:59:59Z", 1),
        ("2026-11-20T10:00:00Z", 2),  # == from: in
        ("2026-11-20T10:30:00Z", 6),
        ("2026-11-20T11:00:00Z", 9),  # == to: out
    ]:
        create_entry(
            client,
            ana,
            occurred_at=at,
            mood=mood,
            people=[{"person_id": sam["id"]}],
            focus_area_id=area["id"],
        )
    # The same instants, written with New York's offset.
    window = {"from": "2026-11-20T05:00:00-05:00", "to": "2026-11-20T06:00:00-05:00"}

    by_person = get_summary(client, ana, "mood-by-person", **window)
    assert by_person["baseline"] == {"entries": 2, "mean_mood": 4.0}
    assert by_person["people"][0]["entries"] == 2
    timeline = get_summary(client, ana, "mood-timeline", **window)
    assert timeline["points"] == [point("2026-11-20", [2, 6], people_count=1)]
    [summary] = get_summary(client, ana, "focus-areas", **window)["focus_areas"]
    assert summary["entries"] == 2
    assert summary["mean_mood"] == 4.0
    assert instant(summary["first_at"]) == instant("2026-11-20T10:00:00Z")
    assert instant(summary["last_at"]) == instant("2026-11-20T10:30:00Z")


def test_an_empty_range_gives_zero_counts_and_null_means(client: TestClient) -> None:
    ana = client_in(client, "Australia/Lord_Howe")
    sam = create_person(client, ana, name="Sam", closeness=1)
    area = create_focus_area(client, ana, problem_area="grief", title="Loss of Dad")
    create_entry(
        client,
        ana,
        occurred_at="2026-11-20T12:00:00Z",
        mood=5,
        people=[{"person_id": sam["id"], "quality": 2}],
        emotions=[{"label": "sad", "intensity": 5}],
        focus_area_id=area["id"],
    )
    window = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-08T00:00:00Z"}

    assert get_summary(client, ana, "mood-by-person", **window) == {
        "timezone": "Australia/Lord_Howe",
        "baseline": {"entries": 0, "mean_mood": None},
        "people": [
            {
                "person_id": sam["id"],
                "name": "Sam",
                "closeness": 1,
                "entries": 0,
                "mean_mood": None,
                "mean_mood_without": None,
                "delta": None,
                "delta_ci95": None,
                "enough": False,
                "mean_quality": None,
                "top_emotions": [],
            }
        ],
    }
    assert get_summary(client, ana, "mood-timeline", bucket="week", **window)["points"] == []
    assert get_summary(client, ana, "focus-areas", **window) == {
        "focus_areas": [
            {
                "focus_area_id": area["id"],
                "title": "Loss of Dad",
                "problem_area": "grief",
                "entries": 0,
                "mean_mood": None,
                "trend_per_week": None,
                "trend_ci95": None,
                "first_at": None,
                "last_at": None,
            }
        ]
    }


def test_a_new_account_has_empty_summaries(client: TestClient) -> None:
    ana = register(client)
    assert get_summary(client, ana, "mood-by-person") == {
        "timezone": "UTC",
        "baseline": {"entries": 0, "mean_mood": None},
        "people": [],
    }
    assert get_summary(client, ana, "focus-areas") == {"focus_areas": []}
    assert get_summary(client, ana, "between-sessions") == {
        "session_id": None,
        "from": None,
        "to": None,
        "entries": 0,
        "mean_mood": None,
        "mean_mood_change": None,
        "people": [],
        "top_emotions": [],
        "lowest_mood_entries": [],
        "measures": [],
    }


@pytest.mark.parametrize("kind", ["mood-by-person", "mood-timeline", "focus-areas"])
def test_a_naive_from_is_refused(client: TestClient, kind: str) -> None:
    ana = register(client)
    response = client.get(
        f"/v1/summaries/{kind}", params={"from": "2026-11-20T10:00:00"}, headers=ana.headers
    )
    assert_problem(response, 422, "query.from")


def test_summaries_need_a_login(client: TestClient) -> None:
    for kind in ("mood-by-person", "mood-timeline", "focus-areas", "between-sessions"):
        assert client.get(f"/v1/summaries/{kind}").status_code == 401


def test_summaries_show_only_the_callers_diary(client: TestClient) -> None:
    ana, bo = register(client), register(client)
    create_person(client, bo, name="Bo's friend")
    create_entry(client, bo, mood=9)
    create_session(client, bo)
    assert get_summary(client, ana, "mood-by-person")["people"] == []
    assert get_summary(client, ana, "mood-by-person")["baseline"]["entries"] == 0
    assert get_summary(client, ana, "mood-timeline")["points"] == []
    assert get_summary(client, ana, "between-sessions")["entries"] == 0


# --- focus areas --------------------------------------------------------------------------


def test_focus_area_with_one_entry_has_no_trend(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana, title="New job")
    create_entry(client, ana, occurred_at="2026-11-20T18:30:00+01:00", mood=6,
                 focus_area_id=area["id"])  # fmt: skip
    assert get_summary(client, ana, "focus-areas") == {
        "focus_areas": [
            {
                "focus_area_id": area["id"],
                "title": "New job",
                "problem_area": "role_transition",
                "entries": 1,
                "mean_mood": 6.0,
                "trend_per_week": None,
                "trend_ci95": None,
                "first_at": "2026-11-20T17:30:00Z",
                "last_at": "2026-11-20T17:30:00Z",
            }
        ]
    }


def test_entries_all_at_one_instant_have_no_trend(client: TestClient) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    for mood in (2, 9):
        create_entry(client, ana, occurred_at="2026-11-20T10:00:00Z", mood=mood,
                     focus_area_id=area["id"])  # fmt: skip
    [summary] = get_summary(client, ana, "focus-areas")["focus_areas"]
    assert summary["entries"] == 2
    assert summary["mean_mood"] == 5.5
    assert summary["trend_per_week"] is None
    assert summary["trend_ci95"] is None


def test_trend_is_the_least_squares_slope_per_week(client: TestClient) -> None:
    ana = client_in(client, "Asia/Kolkata")
    rising = create_focus_area(client, ana, problem_area="role_dispute", title="Mum")
    other = create_focus_area(client, ana, problem_area="grief", title="Dad")
    # x = 0, 1, 2 weeks; y = 2, 4, 9: slope = (3·22 − 3·15) / (3·5 − 3²) = 21 / 6 = 3.5.
    for at, mood in [("2026-11-02T10:00:00Z", 2), ("2026-11-09T10:00:00Z", 4),
                     ("2026-11-16T10:00:00Z", 9)]:  # fmt: skip
        create_entry(client, ana, occurred_at=at, mood=mood, focus_area_id=rising["id"])
    create_entry(client, ana, occurred_at="2026-11-03T10:00:00Z", mood=0)  # no focus area
    create_entry(client, ana, occurred_at="2026-11-10T10:00:00Z", mood=10,
                 focus_area_id=other["id"])  # fmt: skip

    by_id = {a["focus_area_id"]: a for a in get_summary(client, ana, "focus-areas")["focus_areas"]}
    assert by_id[rising["id"]]["entries"] == 3
    assert by_id[rising["id"]]["mean_mood"] == 5.0
    assert by_id[rising["id"]]["trend_per_week"] == pytest.approx(3.5, rel=1e-9, abs=1e-9)
    assert by_id[other["id"]]["entries"] == 1
    assert by_id[other["id"]]["trend_per_week"] is None


def test_trend_uses_elapsed_time_across_a_dst_change(client: TestClient) -> None:
    ana = client_in(client, "Europe/London")
    area = create_focus_area(client, ana)
    # 10:00 local both Sundays, but London springs forward in between: 167 hours elapse,
    # so the slope is 5 / (167/168) = 840/167 mood points per week.
    create_entry(client, ana, occurred_at="2026-03-22T10:00:00+00:00", mood=3,
                 focus_area_id=area["id"])  # fmt: skip
    create_entry(client, ana, occurred_at="2026-03-29T10:00:00+01:00", mood=8,
                 focus_area_id=area["id"])  # fmt: skip
    [summary] = get_summary(client, ana, "focus-areas")["focus_areas"]
    assert summary["trend_per_week"] == pytest.approx(840 / 167, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("later", "slope"),
    [
        ("2026-11-20T10:15:00Z", 5 * 672),  # 15 minutes = 1/672 week
        ("2026-11-20T10:00:01Z", 5 * 604800),  # one second = 1/604800 week
    ],
)
def test_trend_of_entries_close_together_is_exact(
    client: TestClient, later: str, slope: int
) -> None:
    ana = register(client)
    area = create_focus_area(client, ana)
    create_entry(client, ana, occurred_at="2026-11-20T10:00:00Z", mood=2,
                 focus_area_id=area["id"])  # fmt: skip
    create_entry(client, ana, occurred_at=later, mood=7, focus_area_id=area["id"])
    [summary] = get_summary(client, ana, "focus-areas")["focus_areas"]
    assert summary["trend_per_week"] == pytest.approx(slope, rel=1e-9, abs=1e-9)


# --- between sessions ---------------------------------------------------------------------


@pytest.fixture
def two_sessions(client: TestClient) -> dict[str, Any]:
    """Sessions #1 (2 Nov 17:00 UTC) and #2 (9 Nov 17:00 UTC), entries around them."""
    ana = client_in(client, "Europe/London")
    mum = create_person(client, ana, name="Mum")
    sam = create_person(client, ana, name="Sam")
    first = create_session(client, ana, held_at="2026-11-02T17:00:00Z", number=1)
    second = create_session(client, ana, held_at="2026-11-09T17:00:00Z", number=2)

    def entry(at: str, mood: int, people: list[str], emotions: list[Any], **more: Any) -> Any:
        return create_entry(
            client,
            ana,
            occurred_at=at,
            mood=mood,
            people=[{"person_id": p} for p in people],
            emotions=emotions,
            **more,
        )

    entries = {
        "a": entry("2026-11-01T12:00:00Z", 4, [mum["id"]], [{"label": "sad", "intensity": 6}]),
        # At session #1 exactly: the interval #1 → #2 starts here (inclusive).
        "b": entry(
            "2026-11-02T17:00:00Z",
            3,
            [mum["id"], sam["id"]],
            [
                {"label": "hurt", "intensity": 7, "person_id": mum["id"]},
                {"label": "anxious", "intensity": 5},
            ],
            event_type="conversation",
        ),
        "c": entry(
            "2026-11-05T20:00:00Z",
            3,
            [sam["id"]],
            [{"label": "anxious", "intensity": 3}],
            event_type="conflict",
        ),
        "d": entry(
            "2026-11-07T09:00:00Z",
            9,
            [],
            [{"label": "calm", "intensity": 8}, {"label": "anxious", "intensity": 4}],
            event_type="social_activity",
            private=True,
        ),
        # At session #2 exactly: after #2 (the interval to #2 excludes it).
        "e": entry(
            "2026-11-09T17:00:00Z",
            1,
            [],
            [{"label": "sad", "intensity": 2}],
            event_type="isolation",
        ),
    }
    phq9 = create_measure(
        client,
        ana,
        instrument="phq9",
        answers=[2, 2, 1, 1, 2, 1, 1, 2, 0],  # 12: moderate
        completed_at="2026-11-02T17:00:00Z",
    )
    gad7 = create_measure(
        client,
        ana,
        instrument="gad7",
        answers=[3, 3, 2, 2, 2, 2, 2],  # 16: severe
        completed_at="2026-11-09T17:00:00Z",
    )
    return {
        "account": ana,
        "mum": mum,
        "sam": sam,
        "first": first,
        "second": second,
        "entries": entries,
        "phq9": phq9,
        "gad7": gad7,
    }


def low(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "occurred_at", "mood", "event_type")
    return {key: entry[key] for key in keys}


def test_interval_ending_at_a_session(client: TestClient, two_sessions: dict[str, Any]) -> None:
    s = two_sessions
    mum, sam, entries = s["mum"], s["sam"], s["entries"]
    body = get_summary(client, s["account"], "between-sessions", session_id=s["second"]["id"])
    assert body == {
        "session_id": s["second"]["id"],
        "from": "2026-11-02T17:00:00Z",
        "to": "2026-11-09T17:00:00Z",
        "entries": 3,  # b, c, d
        "mean_mood": 5.0,  # (3 + 3 + 9) / 3
        "mean_mood_change": 1.0,  # against a (4) before session #1
        "people": [
            {"person_id": sam["id"], "name": "Sam", "entries": 2, "mean_mood": 3.0},
            {"person_id": mum["id"], "name": "Mum", "entries": 1, "mean_mood": 3.0},
        ],
        "top_emotions": [
            {"label": "anxious", "count": 3, "mean_intensity": 4.0},
            {"label": "calm", "count": 1, "mean_intensity": 8.0},
            {"label": "hurt", "count": 1, "mean_intensity": 7.0},
        ],
        # Equal moods: the later entry first.
        "lowest_mood_entries": [low(entries["c"]), low(entries["b"]), low(entries["d"])],
        "measures": [
            {
                "id": s["phq9"]["id"],
                "instrument": "phq9",
                "total": 12,
                "severity": "moderate",
                "completed_at": "2026-11-02T17:00:00Z",
            }
        ],
    }


def test_interval_ending_at_the_first_session(
    client: TestClient, two_sessions: dict[str, Any]
) -> None:
    s = two_sessions
    body = get_summary(client, s["account"], "between-sessions", session_id=s["first"]["id"])
    assert body == {
        "session_id": s["first"]["id"],
        "from": None,
        "to": "2026-11-02T17:00:00Z",
        "entries": 1,
        "mean_mood": 4.0,
        "mean_mood_change": None,  # nothing before the start of the diary
        "people": [{"person_id": s["mum"]["id"], "name": "Mum", "entries": 1, "mean_mood": 4.0}],
        "top_emotions": [{"label": "sad", "count": 1, "mean_intensity": 6.0}],
        "lowest_mood_entries": [low(s["entries"]["a"])],
        "measures": [],
    }


def test_default_interval_is_from_the_latest_session_on(
    client: TestClient, two_sessions: dict[str, Any]
) -> None:
    s = two_sessions
    body = get_summary(client, s["account"], "between-sessions")
    assert body == {
        "session_id": None,
        "from": "2026-11-09T17:00:00Z",
        "to": None,
        "entries": 1,
        "mean_mood": 1.0,
        "mean_mood_change": -4.0,  # 1 − 5
        "people": [],
        "top_emotions": [{"label": "sad", "count": 1, "mean_intensity": 2.0}],
        "lowest_mood_entries": [low(s["entries"]["e"])],
        "measures": [
            {
                "id": s["gad7"]["id"],
                "instrument": "gad7",
                "total": 16,
                "severity": "severe",
                "completed_at": "2026-11-09T17:00:00Z",
            }
        ],
    }


def test_an_interval_without_entries(client: TestClient) -> None:
    ana = register(client)
    create_entry(client, ana, occurred_at="2026-11-01T12:00:00Z", mood=6)
    session = create_session(client, ana, held_at="2026-11-02T17:00:00Z", number=1)
    body = get_summary(client, ana, "between-sessions")
    assert body["from"] == "2026-11-02T17:00:00Z"
    assert body["entries"] == 0
    assert body["mean_mood"] is None
    assert body["mean_mood_change"] is None  # an empty interval has no mean to compare
    assert body["people"] == body["top_emotions"] == body["lowest_mood_entries"] == []
    ending = get_summary(client, ana, "between-sessions", session_id=session["id"])
    assert (ending["entries"], ending["mean_mood"], ending["mean_mood_change"]) == (1, 6.0, None)


def test_lowest_mood_entries_are_three_ties_broken_by_time_then_id(client: TestClient) -> None:
    ana = register(client)
    create_session(client, ana, held_at="2026-11-01T00:00:00Z", number=1)
    same = "2026-11-05T12:00:00Z"
    ids = sorted(str(uuid.uuid4()) for _ in range(2))
    late = create_entry(client, ana, occurred_at="2026-11-06T12:00:00Z", mood=2)
    tied = [create_entry(client, ana, id=i, occurred_at=same, mood=2) for i in reversed(ids)]
    create_entry(client, ana, occurred_at="2026-11-02T12:00:00Z", mood=2)  # earliest: 4th
    create_entry(client, ana, occurred_at="2026-11-03T12:00:00Z", mood=5)
    lowest = get_summary(client, ana, "between-sessions")["lowest_mood_entries"]
    assert [e["id"] for e in lowest] == [late["id"], ids[0], ids[1]]
    assert {t["id"] for t in tied} == set(ids)


def test_between_sessions_for_an_unknown_session_is_404(client: TestClient) -> None:
    ana, bo = register(client), register(client)
    theirs = create_session(client, bo)
    for session_id in (theirs["id"], str(uuid.uuid4())):
        response = client.get(
            "/v1/summaries/between-sessions", params={"session_id": session_id},
            headers=ana.headers,
        )  # fmt: skip
        assert_problem(response, 404)
    response = client.get(
        "/v1/summaries/between-sessions", params={"session_id": "nope"}, headers=ana.headers
    )
    assert_problem(response, 422, "query.session_id")
