"""The measure schedule agreed in therapy (`/v1/measure-schedule`) and what it makes due
(`/v1/measures/due`), worked out here from the sessions and measures each test writes."""

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Account,
    assert_problem,
    create_measure,
    create_session,
    register,
    share_with,
    sync_to_end,
)

SCHEDULE = "/v1/measure-schedule"
DUE = "/v1/measures/due"
ZONE = "America/New_York"


def put(client: TestClient, account: Account, body: Any) -> Any:
    return client.put(SCHEDULE, json=body, headers=account.headers)


def due(client: TestClient, account: Account) -> dict[str, dict[str, Any]]:
    response = client.get(DUE, headers=account.headers)
    assert response.status_code == 200, response.text
    listed = response.json()["due"]
    return {item["instrument"]: item for item in listed}


def iso(at: datetime) -> str:
    return at.isoformat()


def local_days_ago(days: int, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time, `days` local days before today in ZONE."""
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    return datetime.combine(today - timedelta(days=days), time(hour, minute), zone)


@pytest.fixture
def ana(client: TestClient) -> Account:
    return register(client, timezone=ZONE)


def test_the_schedule_is_read_as_written_and_replaced_whole(
    client: TestClient, ana: Account
) -> None:
    assert client.get(SCHEDULE, headers=ana.headers).json() == {}
    written = put(
        client,
        ana,
        {"wsas": {"every_n_days": 28}, "phq9": {"every_n_sessions": 4, "every_n_days": 30}},
    )
    assert written.status_code == 200, written.text
    expected = {
        "phq9": {"every_n_sessions": 4, "every_n_days": 30},
        "wsas": {"every_n_sessions": None, "every_n_days": 28},
    }
    assert written.json() == expected
    assert client.get(SCHEDULE, headers=ana.headers).json() == expected
    # A second PUT replaces the first: what it leaves out is no longer scheduled.
    assert put(client, ana, {"gad7": {"every_n_sessions": 2}}).json() == {
        "gad7": {"every_n_sessions": 2, "every_n_days": None}
    }
    assert put(client, ana, {}).json() == {}
    assert client.get(SCHEDULE, headers=ana.headers).json() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phq9": {}}, "body.phq9"),
        ({"phq9": {"every_n_sessions": 0}}, "body.phq9.every_n_sessions"),
        ({"phq9": {"every_n_days": 366}}, "body.phq9.every_n_days"),
        ({"phq9": {"every_n_days": True}}, "body.phq9.every_n_days"),
        ({"phq9": {"every_n_days": "28"}}, "body.phq9.every_n_days"),
        ({"phq9": {"every_n_days": 2.5}}, "body.phq9.every_n_days"),
        ({"phq9": {"every_n_weeks": 2}}, "body.phq9.every_n_weeks"),
        ({"bdi2": {"every_n_days": 7}}, "body.bdi2.[key]"),
        ([{"phq9": {"every_n_days": 7}}], "body"),
    ],
)
def test_a_bad_schedule_is_422_naming_the_field_and_keeps_the_old_one(
    client: TestClient, ana: Account, body: Any, field: str
) -> None:
    put(client, ana, {"gad7": {"every_n_days": 14}})
    assert_problem(put(client, ana, body), 422, field)
    assert client.get(SCHEDULE, headers=ana.headers).json() == {
        "gad7": {"every_n_sessions": None, "every_n_days": 14}
    }


def test_a_scheduled_instrument_never_completed_is_due_with_every_session_held(
    client: TestClient, ana: Account
) -> None:
    now = datetime.now(UTC)
    create_session(client, ana, number=1, held_at=iso(now - timedelta(days=20)))
    create_session(client, ana, number=2, held_at=iso(now - timedelta(days=6)))
    create_session(client, ana, number=3, held_at=iso(now + timedelta(days=1)))  # not yet held
    put(client, ana, {"epds": {"every_n_days": 28}, "phq9": {"every_n_sessions": 4}})
    found = due(client, ana)
    assert list(found) == ["phq9", "epds"]  # the registry's order
    for item in found.values():
        assert item == {
            "instrument": item["instrument"],
            "last_completed_at": None,
            "reason": "never_completed",
            "sessions_since": 2,
            "days_since": None,
        }


def test_due_after_n_sessions_held_since_the_last_completion(
    client: TestClient, ana: Account
) -> None:
    now = datetime.now(UTC)
    put(client, ana, {"phq9": {"every_n_sessions": 2}})
    create_session(client, ana, number=1, held_at=iso(now - timedelta(days=15)))
    last = create_measure(client, ana, completed_at=iso(now - timedelta(days=14)))
    create_session(client, ana, number=2, held_at=iso(now - timedelta(days=8)))
    create_session(client, ana, number=3, held_at=iso(now + timedelta(hours=1)))  # planned
    assert due(client, ana) == {}  # one held since: not yet

    create_session(client, ana, number=4, held_at=iso(now - timedelta(hours=1)))
    assert due(client, ana) == {
        "phq9": {
            "instrument": "phq9",
            "last_completed_at": last["completed_at"],
            "reason": "sessions",
            "sessions_since": 2,
            "days_since": 14,
        }
    }
    # Completing it resets the count; an older completion does not.
    create_measure(client, ana, completed_at=iso(now - timedelta(days=30)))
    assert "phq9" in due(client, ana)
    create_measure(client, ana, completed_at=iso(now - timedelta(minutes=5)))
    assert due(client, ana) == {}


def test_due_after_n_days_counted_in_the_accounts_time_zone(
    client: TestClient, ana: Account
) -> None:
    put(client, ana, {"gad7": {"every_n_days": 14}, "wsas": {"every_n_days": 14}})
    # Late in the evening, New York time: in UTC already the next day.
    gad7 = create_measure(
        client,
        ana,
        instrument="gad7",
        answers=[0] * 7,
        completed_at=iso(local_days_ago(14, 23, 30)),
    )
    create_measure(
        client,
        ana,
        instrument="wsas",
        answers=[None, 0, 0, 0, 0],
        completed_at=iso(local_days_ago(13, 0, 30)),
    )
    found = due(client, ana)
    assert list(found) == ["gad7"]
    assert found["gad7"]["reason"] == "days"
    assert found["gad7"]["days_since"] == 14
    assert found["gad7"]["last_completed_at"] == gad7["completed_at"]


def test_whichever_comes_first(client: TestClient, ana: Account) -> None:
    now = datetime.now(UTC)
    put(client, ana, {"wsas": {"every_n_sessions": 1, "every_n_days": 28}})
    create_measure(
        client, ana, instrument="wsas", answers=[1] * 5, completed_at=iso(now - timedelta(days=2))
    )
    assert due(client, ana) == {}
    create_session(client, ana, number=1, held_at=iso(now - timedelta(days=1)))
    assert due(client, ana)["wsas"]["reason"] == "sessions"


def test_another_clients_sessions_and_measures_count_for_nothing(
    client: TestClient, ana: Account
) -> None:
    now = datetime.now(UTC)
    put(client, ana, {"phq9": {"every_n_sessions": 1}})
    create_measure(client, ana, completed_at=iso(now - timedelta(days=3)))
    bea = register(client, name="Bea")
    put(client, bea, {"gad7": {"every_n_days": 1}})
    create_session(client, bea, number=1, held_at=iso(now - timedelta(days=1)))
    create_measure(client, bea, completed_at=iso(now - timedelta(days=1)))
    assert due(client, ana) == {}
    assert list(due(client, bea)) == ["gad7"]
    assert client.get(SCHEDULE, headers=ana.headers).json() == {
        "phq9": {"every_n_sessions": 1, "every_n_days": None}
    }


def test_a_linked_therapist_reads_the_clients_schedule_and_what_is_due(
    client: TestClient, ana: Account
) -> None:
    now = datetime.now(UTC)
    put(client, ana, {"phq9": {"every_n_sessions": 1}, "epds": {"every_n_days": 7}})
    create_measure(client, ana, completed_at=iso(now - timedelta(days=3)))
    create_session(client, ana, number=1, held_at=iso(now - timedelta(days=1)))
    therapist = register(client, role="therapist", name="Dr Lee")
    assert_problem(
        client.get(f"/v1/therapist/clients/{ana.id}/measures/due", headers=therapist.headers), 404
    )  # not linked yet
    client_id = share_with(client, ana, therapist, "full")
    base = f"/v1/therapist/clients/{client_id}"

    schedule = client.get(f"{base}/measure-schedule", headers=therapist.headers)
    assert schedule.json() == client.get(SCHEDULE, headers=ana.headers).json()
    seen = client.get(f"{base}/measures/due", headers=therapist.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json() == client.get(DUE, headers=ana.headers).json()
    assert [(d["instrument"], d["reason"]) for d in seen.json()["due"]] == [
        ("phq9", "sessions"),
        ("epds", "never_completed"),
    ]
    log = client.get("/v1/access-log", headers=ana.headers).json()["items"]
    assert sorted(e["action"] for e in log if e["therapist_id"] == therapist.id) == [
        "measure-schedule",
        "measures/due",
    ]
    # Like the measures themselves, not for a `summaries` share (DESIGN §4).
    summaries_only = register(client, role="therapist", name="Dr Ng")
    share_with(client, ana, summaries_only, "summaries")
    for view in ("measure-schedule", "measures/due"):
        assert_problem(client.get(f"{base}/{view}", headers=summaries_only.headers), 403)


def test_a_therapist_has_no_schedule_to_read_or_write(client: TestClient) -> None:
    therapist = register(client, role="therapist")
    assert_problem(client.get(SCHEDULE, headers=therapist.headers), 403)
    assert_problem(put(client, therapist, {"phq9": {"every_n_days": 7}}), 403)
    assert_problem(client.get(DUE, headers=therapist.headers), 403)


def brief_text(client: TestClient, account: Account, **params: str) -> str:
    response = client.get("/v1/reports/session-brief", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return " ".join(re.sub(r"<[^>]+>", "", response.text).split())


def test_the_brief_says_what_is_due_at_the_end_of_its_interval(
    client: TestClient, ana: Account
) -> None:
    now = datetime.now(UTC)
    create_measure(client, ana, completed_at=iso(now - timedelta(days=20)))
    first = create_session(client, ana, number=1, held_at=iso(now - timedelta(days=14)))
    second = create_session(client, ana, number=2, held_at=iso(now - timedelta(days=7)))
    assert "agreed schedule" not in brief_text(client, ana)  # none agreed

    # Kept answers are per version of the diary: a new schedule is a new version.
    put(client, ana, {"phq9": {"every_n_sessions": 2}})
    assert "Due under the agreed schedule: PHQ-9 (2 sessions since the last" in brief_text(
        client, ana
    )
    assert "Due under the agreed schedule: PHQ-9 (2 sessions since the last" in brief_text(
        client, ana, session_id=second["id"]
    )
    # At the first session only one had been held since.
    assert "Nothing due under the agreed schedule." in brief_text(
        client, ana, session_id=first["id"]
    )
    put(client, ana, {"phq9": {"every_n_sessions": 3}})
    assert "Nothing due under the agreed schedule." in brief_text(client, ana)


def test_every_device_gets_the_schedule_through_sync_when_it_changes(
    client: TestClient, ana: Account
) -> None:
    _, anchor = sync_to_end(client, ana)
    put(client, ana, {"wsas": {"every_n_days": 28}})
    pages, anchor = sync_to_end(client, ana, anchor)
    assert [page["measure_schedule"] for page in pages] == [
        {"wsas": {"every_n_sessions": None, "every_n_days": 28}}
    ]
    create_session(client, ana, number=1)  # another change: the schedule is not sent again
    pages, anchor = sync_to_end(client, ana, anchor)
    assert [page["measure_schedule"] for page in pages] == [None]
    assert [s["number"] for page in pages for s in page["sessions"]] == [1]
    put(client, ana, {})
    pages, _ = sync_to_end(client, ana, anchor)
    assert [page["measure_schedule"] for page in pages] == [{}]
