"""The calendar feed: sessions and active reminders as iCalendar, read back by the icalendar
library and expanded by dateutil (not by the app's code); no diary text; a secret address
that a new one replaces, and that no log line or metric ever holds."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar, Event, Timezone

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import (
    PASSWORD,
    Account,
    assert_problem,
    create_entry,
    create_session,
    register,
)
from tests.reminders.support import create_reminder

FEED = "/v1/calendar.ics"


def new_feed(client: TestClient, account: Account) -> dict[str, Any]:
    response = client.post("/v1/calendar-token", headers=account.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def fetch(client: TestClient, token: str, **headers: str) -> Any:
    return client.get(FEED, params={"token": token}, headers=headers)


def read_feed(client: TestClient, token: str) -> tuple[bytes, Calendar]:
    response = fetch(client, token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return response.content, Calendar.from_ical(response.content)


def events(feed: Calendar) -> dict[str, Event]:
    return {str(event["summary"]): event for event in feed.walk("VEVENT")}


def test_the_feed_shows_the_sessions_and_active_reminders_and_nothing_written(
    client: TestClient,
) -> None:
    ana = register(client)
    secret_note = f"note-{uuid.uuid4().hex}"
    secret_entry = f"entry-{uuid.uuid4().hex}"
    create_session(client, ana, number=4, held_at="2026-11-18T17:00:00+01:00", notes=secret_note)
    create_session(client, ana, number=5, held_at="2026-11-25T16:00:00Z")
    create_entry(client, ana, event=secret_entry, communication={"what_i_said": secret_entry})
    diary = create_reminder(
        client, ana, rrule="FREQ=WEEKLY;BYDAY=MO,TH", starts_on="2026-12-03", local_time="20:00"
    )
    mood = create_reminder(
        client, ana, kind="mood", rrule="FREQ=DAILY;COUNT=14", timezone="Asia/Tokyo",
        local_time="08:30", starts_on="2026-12-04",
    )  # fmt: skip
    create_reminder(client, ana, kind="measure", rrule="FREQ=MONTHLY", active=False)

    raw, feed = read_feed(client, new_feed(client, ana)["token"])

    for text in (secret_note, secret_entry, ana.email, "Ana"):
        assert text.encode() not in raw
    assert str(feed["version"]) == "2.0"
    found = events(feed)
    assert sorted(found) == [
        "IPT session 4",
        "IPT session 5",
        "Note your mood",
        "Write in your diary",
    ]
    fourth, fifth = found["IPT session 4"], found["IPT session 5"]
    assert fourth.decoded("dtstart") == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    assert fifth.decoded("dtstart") == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert fourth.decoded("duration") == timedelta(minutes=50)
    assert "rrule" not in fourth
    assert set(fourth) <= {"UID", "DTSTAMP", "DTSTART", "DURATION", "SUMMARY"}

    weekly = found["Write in your diary"]
    start = weekly.decoded("dtstart")
    assert (start.replace(tzinfo=None), str(start.tzinfo)) == (
        datetime(2026, 12, 3, 20, 0),
        "Europe/London",
    )
    assert weekly["rrule"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO,TH"
    tokyo = found["Note your mood"]
    assert tokyo.decoded("dtstart").isoformat() == "2026-12-04T08:30:00+09:00"
    assert tokyo["rrule"].to_ical() == b"FREQ=DAILY;COUNT=14"
    # A VTIMEZONE for each zone used (UTC is written as UTC).
    assert sorted(str(zone["tzid"]) for zone in feed.walk("VTIMEZONE")) == [
        "Asia/Tokyo",
        "Europe/London",
    ]
    # Each event's UID stays the same while its row lives, and names no id of the API.
    uids = [str(event["uid"]) for event in feed.walk("VEVENT")]
    assert len(set(uids)) == 4
    assert not any(diary["id"] in uid or mood["id"] in uid or ana.id in uid for uid in uids)
    _, again = read_feed(client, new_feed(client, ana)["token"])
    assert [str(event["uid"]) for event in again.walk("VEVENT")] == uids


def utc_instants(feed: Calendar, summary: str, after: datetime, before: datetime) -> list[datetime]:
    """The event's occurrences in [after, before), in UTC: its RRULE expanded by dateutil from
    its wall-clock DTSTART, placed on the clock its VTIMEZONE describes (not tzdata's)."""
    event = events(feed)[summary]
    start = event.decoded("dtstart")
    [vtimezone] = [z for z in feed.walk("VTIMEZONE") if z["tzid"] == str(start.tzinfo)]
    clock = Timezone.from_ical(vtimezone.to_ical()).to_tz(lookup_tzid=False)
    rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    local = rule.between(after.replace(tzinfo=None), before.replace(tzinfo=None), inc=True)
    return [moment.replace(tzinfo=clock).astimezone(UTC) for moment in local]


def test_a_daily_reminder_keeps_its_local_time_across_daylight_saving(client: TestClient) -> None:
    ana = register(client)
    create_reminder(
        client, ana, rrule="FREQ=DAILY", local_time="20:00", timezone="Europe/London",
        starts_on="2027-03-20",
    )  # fmt: skip
    _, feed = read_feed(client, new_feed(client, ana)["token"])

    def at(day: date) -> list[datetime]:
        midnight = datetime.combine(day, datetime.min.time())
        return utc_instants(feed, "Write in your diary", midnight, midnight + timedelta(days=1))

    def utc(day: date, hour: int) -> list[datetime]:
        return [datetime.combine(day, datetime.min.time(), UTC).replace(hour=hour)]

    # The clocks go forward on the last Sunday of March (28 March 2027), back on the last
    # Sunday of October (31 October 2027): 20:00 in London is 20:00Z in winter, 19:00Z in
    # summer.
    assert at(date(2027, 3, 27)) == utc(date(2027, 3, 27), 20)
    assert at(date(2027, 3, 28)) == utc(date(2027, 3, 28), 19)
    assert at(date(2027, 10, 30)) == utc(date(2027, 10, 30), 19)
    assert at(date(2027, 10, 31)) == utc(date(2027, 10, 31), 20)
    season = utc_instants(feed, "Write in your diary", datetime(2027, 3, 20), datetime(2027, 11, 8))
    summer = [m for m in season if date(2027, 3, 28) <= m.date() < date(2027, 10, 31)]
    winter = [m for m in season if m not in summer]
    # Every day from 20 March to 7 November once, 217 of them in summer time.
    assert (len(season), len(summer)) == (233, 217)
    assert ({m.hour for m in summer}, {m.hour for m in winter}) == ({19}, {20})
    assert {m.astimezone(ZoneInfo("Europe/London")).time() for m in season} == {time(20)}


def test_a_new_address_replaces_the_old_one(client: TestClient) -> None:
    ana = register(client)
    create_reminder(client, ana)
    first = new_feed(client, ana)
    assert fetch(client, first["token"]).status_code == 200
    second = new_feed(client, ana)
    assert second["token"] != first["token"]
    assert_problem(fetch(client, first["token"]), 404)
    assert fetch(client, second["token"]).status_code == 200


def test_the_address_is_absolute_and_carries_the_token(client: TestClient) -> None:
    ana = register(client)
    issued = new_feed(client, ana)
    address = urlsplit(issued["url"])
    assert (address.scheme, address.netloc, address.path) == ("http", "testserver", FEED)
    assert parse_qs(address.query) == {"token": [issued["token"]]}
    assert len(issued["token"]) >= 43  # 256 bits


def test_a_configured_public_base_url_starts_the_address(database_url: str) -> None:
    settings = make_settings(database_url, public_base_url="https://diary.example.org/")
    public = create_app(settings)
    try:
        with TestClient(public) as http:
            issued = new_feed(http, register(http))
    finally:
        public.state.engine.dispose()
    assert issued["url"] == f"https://diary.example.org{FEED}?token={issued['token']}"


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # the shape of a token, never issued
        "",
        "not a token",
        "A" * 10_000,
        "../../etc/passwd",
    ],
    ids=["never issued", "empty", "words", "long", "path"],
)
def test_a_token_never_issued_is_not_found(client: TestClient, token: str) -> None:
    body = assert_problem(fetch(client, token), 404)
    assert token not in str(body) or token == ""


def test_only_a_client_may_have_a_feed(client: TestClient) -> None:
    therapist = register(client, role="therapist")
    assert_problem(client.post("/v1/calendar-token", headers=therapist.headers), 403)
    assert_problem(client.post("/v1/calendar-token"), 401)


def test_an_erased_accounts_feed_is_gone(client: TestClient) -> None:
    ana = register(client)
    token = new_feed(client, ana)["token"]
    erased = client.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=ana.headers)
    assert erased.status_code == 204, erased.text
    assert_problem(fetch(client, token), 404)


def test_an_empty_diary_has_a_feed_without_events(client: TestClient) -> None:
    ana = register(client)
    _, feed = read_feed(client, new_feed(client, ana)["token"])
    assert feed.walk("VEVENT") == []
    assert feed.walk("VTIMEZONE") == []


@pytest.fixture
def limited_app(database_url: str) -> Iterator[FastAPI]:
    limited = create_app(make_settings(database_url, rate_limit_per_minute=3))
    yield limited
    limited.state.engine.dispose()


def test_the_feed_needs_no_bearer_token_and_ignores_a_bad_one(limited_app: FastAPI) -> None:
    with TestClient(limited_app, raise_server_exceptions=False) as http:
        ana = register(http)
        token = new_feed(http, ana)["token"]
        # Calendar apps poll the address: its requests are not the account's API requests.
        for _ in range(6):
            assert fetch(http, token).status_code == 200
        assert fetch(http, token, Authorization="Bearer not-a-token").status_code == 200
        assert fetch(http, token, Authorization="Basic YW5hOnB3").status_code == 200


def test_no_log_line_or_metric_holds_the_token(client: TestClient, logged_requests: Any) -> None:
    ana = register(client)
    token = new_feed(client, ana)["token"]
    fetch(client, token)
    fetch(client, token[::-1])  # a miss too
    lines = logged_requests.getvalue()
    assert f'"route":"{FEED}"' in lines
    assert token not in lines
    assert token[::-1] not in lines
    metrics = client.get("/metrics").text
    assert f'route="{FEED}"' in metrics
    assert token not in metrics
    assert token[::-1] not in metrics
