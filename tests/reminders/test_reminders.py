"""/v1/reminders: a versioned resource of the client's own, with its rule read by a real
RFC 5545 parser and refused in plain words when it is not one a reminder can follow."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import Account, assert_problem, list_all, register
from tests.reminders.support import create_reminder, reminder_body


@pytest.fixture(scope="module")
def refused(app: FastAPI) -> Account:
    """One account for the tests that are only refused: it must stay without reminders."""
    with TestClient(app) as setup:
        return register(setup)


def test_a_reminder_is_created_read_listed_changed_and_deleted(client: TestClient) -> None:
    ana = register(client)
    response = client.post(
        "/v1/reminders",
        json=reminder_body(rrule="freq=weekly;byday=mo,th", starts_on="2026-12-05"),
        headers=ana.headers,
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    created = response.json()
    assert {k: created[k] for k in ("kind", "rrule", "local_time", "timezone", "active")} == {
        "kind": "diary",
        "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",  # RFC 5545 names are case-insensitive
        "local_time": "20:00:00",
        "timezone": "Europe/London",
        "active": True,
    }
    # Saturday 5 December 2026: the first Monday or Thursday from then is Monday the 7th.
    assert created["starts_on"] == "2026-12-07"
    assert created["version"] == 1
    uuid.UUID(created["id"])

    url = f"/v1/reminders/{created['id']}"
    read = client.get(url, headers=ana.headers)
    assert read.status_code == 200
    assert read.json() == created
    assert read.headers["etag"] == '"1"'
    assert list_all(client, ana, "/v1/reminders") == [created]

    changed = client.patch(
        url,
        json={"active": False, "kind": "mood", "local_time": "08:30:15"},
        headers={**ana.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert (body["active"], body["kind"], body["local_time"], body["version"]) == (
        False,
        "mood",
        "08:30:15",
        2,
    )
    assert body["rrule"] == created["rrule"]
    assert body["starts_on"] == "2026-12-07"
    assert client.get(url, headers=ana.headers).json() == body

    deleted = client.delete(url, headers={**ana.headers, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert_problem(client.get(url, headers=ana.headers), 404)
    assert list_all(client, ana, "/v1/reminders") == []


def test_a_start_is_today_in_the_reminders_zone_unless_sent(client: TestClient) -> None:
    ana = register(client)
    zone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: often not the server's date
    before = datetime.now(zone).date().isoformat()
    daily = create_reminder(client, ana, rrule="FREQ=DAILY", timezone="Pacific/Kiritimati")
    after = datetime.now(zone).date().isoformat()
    assert daily["starts_on"] in {before, after}

    sent = create_reminder(client, ana, rrule="FREQ=MONTHLY;BYMONTHDAY=-1", starts_on="2027-02-03")
    assert sent["starts_on"] == "2027-02-28"  # the last day of February 2027


def test_changing_the_rule_moves_the_start_to_its_first_day(client: TestClient) -> None:
    ana = register(client)
    reminder = create_reminder(client, ana, rrule="FREQ=DAILY", starts_on="2026-12-03")
    assert reminder["starts_on"] == "2026-12-03"
    url = f"/v1/reminders/{reminder['id']}"
    # From the stored start (Thursday 3 December), the first Saturday is the 5th.
    moved = client.patch(
        url, json={"rrule": "FREQ=WEEKLY;BYDAY=SA"}, headers={**ana.headers, "If-Match": "*"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_on"] == "2026-12-05"
    again = client.patch(
        url, json={"starts_on": "2027-01-01"}, headers={**ana.headers, "If-Match": "*"}
    )
    assert again.json()["starts_on"] == "2027-01-02"


def test_a_client_may_choose_the_id_once(client: TestClient) -> None:
    ana = register(client)
    chosen = str(uuid.uuid4())
    assert create_reminder(client, ana, id=chosen)["id"] == chosen
    reused = client.post("/v1/reminders", json=reminder_body(id=chosen), headers=ana.headers)
    assert_problem(reused, 409)
    # Another account's ids are its own: the same id is free there.
    assert create_reminder(client, register(client), id=chosen)["id"] == chosen


def test_the_list_pages_oldest_first(client: TestClient) -> None:
    ana = register(client)
    made = [create_reminder(client, ana, kind=kind)["id"] for kind in ("diary", "mood", "measure")]
    first = client.get("/v1/reminders", params={"limit": 2}, headers=ana.headers).json()
    assert [r["id"] for r in first["items"]] == made[:2]
    rest = client.get(
        "/v1/reminders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ana.headers
    ).json()
    assert [r["id"] for r in rest["items"]] == made[2:]
    assert rest["next_cursor"] is None
    assert_problem(
        client.get("/v1/reminders", params={"limit": 101}, headers=ana.headers), 422, "query.limit"
    )


# Each kind of rule a reminder cannot follow, and words the refusal must say.
BAD_RULES = {
    "FREQ=HOURLY": "repeats within a day",
    "FREQ=MINUTELY;INTERVAL=30": "repeats within a day",
    "FREQ=SECONDLY": "repeats within a day",
    "FREQ=DAILY;BYHOUR=8": "the time of day is local_time",
    "FREQ=DAILY;BYMINUTE=15": "the time of day is local_time",
    "FREQ=WEEKLY;BYSECOND=0": "the time of day is local_time",
    "DTSTART:20261203T200000Z\nRRULE:FREQ=DAILY": "DTSTART",
    "FREQ=DAILY;DTSTART=20261203T200000": "DTSTART",
    "RRULE:FREQ=DAILY": "RRULE:",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30": "never occurs",
    "FREQ=DAILY;UNTIL=20200101T000000Z": "never occurs",
    "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20": "never occurs",  # a first Monday is the 1st–7th
    "FREQ=DAILY;COUNT=0": "COUNT must be a whole number",
    "FREQ=DAILY;INTERVAL=0": "INTERVAL must be a whole number",
    "FREQ=DAILY;COUNT=3;UNTIL=20301231T000000Z": "COUNT and UNTIL",
    "FREQ=DAILY;UNTIL=20301231": "UNTIL must be a UTC date and time",
    "FREQ=FORTNIGHTLY": "FREQ must be one of",
    "BYDAY=MO": "needs FREQ",
    "FREQ=DAILY;FREQ=WEEKLY": "given twice",
    "FREQ=WEEKLY;BYDAY=XX": "not a weekday",
    "FREQ=DAILY;BYDAY=1MO": "numbered weekday",
    "FREQ=MONTHLY;BYMONTHDAY=32": "out of range",
    "FREQ=WEEKLY;BYMONTHDAY=1": "cannot be used with FREQ=WEEKLY",
    "FREQ=DAILY;BYEASTER=0": "not a part of an RFC 5545",
    "FREQ=WEEKLY;WKST=XX": "invalid 'WKST'",  # dateutil's own reason
    "FREQ=DAILY;;": "is not NAME=VALUE",
    "FREQ=DAILY;BYSETPOS=1": "BYSETPOS needs another",
    "": "at least 1 character",
    "FREQ=DAILY;" + "BYMONTHDAY=1;" * 40: "at most 500 characters",
}


@pytest.mark.parametrize(("rule", "reason"), BAD_RULES.items(), ids=list(BAD_RULES))
def test_a_rule_a_reminder_cannot_follow_is_refused_in_plain_words(
    client: TestClient, refused: Account, rule: str, reason: str
) -> None:
    response = client.post("/v1/reminders", json=reminder_body(rrule=rule), headers=refused.headers)
    body = assert_problem(response, 422, "body.rrule")
    [error] = [e for e in body["errors"] if e["field"] == "body.rrule"]
    assert reason in error["message"], error["message"]
    assert list_all(client, refused, "/v1/reminders") == []


def test_a_rule_that_ends_before_its_first_day_is_refused_naming_the_rule(
    client: TestClient, refused: Account
) -> None:
    # 20:00 in London on 3 December is 20:00Z: an UNTIL a second earlier leaves no day.
    late = reminder_body(rrule="FREQ=DAILY;UNTIL=20261203T195959Z", starts_on="2026-12-03")
    assert_problem(
        client.post("/v1/reminders", json=late, headers=refused.headers), 422, "body.rrule"
    )
    assert list_all(client, refused, "/v1/reminders") == []


# A value of another type is refused, never read as what it might mean.
STRICT = [
    ("local_time", 72000),
    ("local_time", 20.5),
    ("local_time", "72000"),
    ("local_time", True),
    ("local_time", "8pm"),
    ("local_time", "8:00"),
    ("local_time", "20:00:00.5"),
    ("local_time", "20:00+01:00"),
    ("local_time", "24:00"),
    ("local_time", None),
    ("active", 1),
    ("active", 0),
    ("active", "true"),
    ("active", None),
    ("kind", 1),
    ("kind", "sleep"),
    ("kind", None),
    ("timezone", "Mars/Olympus_Mons"),
    ("timezone", 0),
    ("timezone", "europe/london"),
    ("rrule", 5),
    ("rrule", ["FREQ=DAILY"]),
    ("starts_on", 20261203),
    ("starts_on", "2026-12-03T20:00:00Z"),
    ("starts_on", "1899-12-31"),
    ("starts_on", "2200-01-01"),
    ("id", "not-a-uuid"),
    ("owner_id", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
    ("version", 7),
]


@pytest.mark.parametrize(("field", "value"), STRICT, ids=[f"{f}={v!r}" for f, v in STRICT])
def test_a_field_of_the_wrong_kind_is_refused_naming_it(
    client: TestClient, refused: Account, field: str, value: Any
) -> None:
    response = client.post(
        "/v1/reminders", json=reminder_body(**{field: value}), headers=refused.headers
    )
    assert_problem(response, 422, f"body.{field}")
    assert list_all(client, refused, "/v1/reminders") == []


@pytest.mark.parametrize(
    "field", ["kind", "rrule", "local_time", "timezone", "starts_on", "active"]
)
def test_a_change_cannot_set_a_field_to_null(client: TestClient, field: str) -> None:
    ana = register(client)
    reminder = create_reminder(client, ana)
    url = f"/v1/reminders/{reminder['id']}"
    response = client.patch(url, json={field: None}, headers={**ana.headers, "If-Match": "*"})
    assert_problem(response, 422, f"body.{field}")
    assert client.get(url, headers=ana.headers).json() == reminder


def test_a_change_after_which_the_rule_never_occurs_changes_nothing(client: TestClient) -> None:
    ana = register(client)
    # Daily at 20:00 in London (20:00Z in winter) from 3 December, ending at that first one.
    reminder = create_reminder(
        client, ana, rrule="FREQ=DAILY;UNTIL=20261203T200000Z", starts_on="2026-12-03"
    )
    assert reminder["starts_on"] == "2026-12-03"
    url = f"/v1/reminders/{reminder['id']}"
    for changes in (
        {"rrule": "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31"},  # 31 April
        {"starts_on": "2026-12-04"},  # after the last day
        {"local_time": "20:00:01"},  # a second after the end
        {"timezone": "America/New_York"},  # 20:00 there is 01:00Z the next day
    ):
        response = client.patch(url, json=changes, headers={**ana.headers, "If-Match": '"1"'})
        assert_problem(response, 422, "body.rrule")
    assert client.get(url, headers=ana.headers).json() == reminder
    # Moved an hour east, 20:00 is 19:00Z: still before the end.
    east = client.patch(
        url, json={"timezone": "Europe/Paris"}, headers={**ana.headers, "If-Match": '"1"'}
    )
    assert east.status_code == 200, east.text


def test_changes_and_deletions_need_the_current_etag(client: TestClient) -> None:
    ana = register(client)
    reminder = create_reminder(client, ana)
    url = f"/v1/reminders/{reminder['id']}"
    assert_problem(client.patch(url, json={"active": False}, headers=ana.headers), 428)
    assert_problem(client.delete(url, headers=ana.headers), 428)

    first = client.patch(url, json={"active": False}, headers={**ana.headers, "If-Match": '"1"'})
    assert first.status_code == 200
    stale = client.patch(url, json={"kind": "mood"}, headers={**ana.headers, "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"2"'
    assert_problem(client.delete(url, headers={**ana.headers, "If-Match": '"1"'}), 412)
    assert client.get(url, headers=ana.headers).json() == first.json()

    assert client.delete(url, headers={**ana.headers, "If-Match": "*"}).status_code == 204


def test_a_retried_post_with_its_idempotency_key_adds_one_reminder(client: TestClient) -> None:
    ana = register(client)
    headers = {**ana.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = reminder_body(kind="measure", rrule="FREQ=MONTHLY;BYDAY=1SA")
    first = client.post("/v1/reminders", json=body, headers=headers)
    assert first.status_code == 201, first.text
    for _ in range(2):
        again = client.post("/v1/reminders", json=body, headers=headers)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
    other = client.post("/v1/reminders", json={**body, "kind": "mood"}, headers=headers)
    assert_problem(other, 422, "header.Idempotency-Key")
    assert [r["id"] for r in list_all(client, ana, "/v1/reminders")] == [first.json()["id"]]


def test_another_clients_reminder_is_not_found(client: TestClient) -> None:
    ana, bob = register(client), register(client)
    reminder = create_reminder(client, ana)
    url = f"/v1/reminders/{reminder['id']}"
    any_version = {**bob.headers, "If-Match": "*"}
    assert_problem(client.get(url, headers=bob.headers), 404)
    assert_problem(client.patch(url, json={"active": False}, headers=any_version), 404)
    assert_problem(client.delete(url, headers=any_version), 404)
    assert list_all(client, bob, "/v1/reminders") == []
    assert client.get(url, headers=ana.headers).json() == reminder


def test_a_therapist_neither_reads_nor_writes_reminders(client: TestClient) -> None:
    therapist = register(client, role="therapist")
    headers = {**therapist.headers, "If-Match": "*"}
    assert_problem(client.get("/v1/reminders", headers=headers), 403)
    assert_problem(client.post("/v1/reminders", json=reminder_body(), headers=headers), 403)
    url = f"/v1/reminders/{uuid.uuid4()}"
    assert_problem(client.get(url, headers=headers), 403)
    assert_problem(client.patch(url, json={"active": False}, headers=headers), 403)
    assert_problem(client.delete(url, headers=headers), 403)
    assert_problem(client.get("/v1/reminders"), 401)


def test_an_account_keeps_at_most_a_hundred_reminders(client: TestClient) -> None:
    ana = register(client)
    for _ in range(100):
        create_reminder(client, ana, rrule="FREQ=DAILY")
    assert_problem(client.post("/v1/reminders", json=reminder_body(), headers=ana.headers), 409)
    assert len(list_all(client, ana, "/v1/reminders")) == 100
