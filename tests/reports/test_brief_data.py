"""The brief's content is the summaries' numbers for its interval (DESIGN §8), seen as the
reader may see them: the client, a `full` share, a `summaries` share (no entry text), never
a private entry for a therapist."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.crypto import KeyRing
from app.core.errors import NotFound
from app.core.field_encryption import KEYS
from app.core.scoping import OwnerScope
from app.reports import brief
from app.reports.brief_data import Brief
from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    register,
)

ZONE = ZoneInfo("Europe/London")
SECRET = "CANARY-private-7f3a"  # written only in private entries
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=ZONE)


@dataclass
class Diary:
    account: Account
    sessions: list[dict[str, Any]]
    people: dict[str, dict[str, Any]]


def at(day: str, hour: int = 19) -> str:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=ZONE).isoformat()


@pytest.fixture(scope="module")
def diary(app: FastAPI) -> Diary:
    with TestClient(app) as http:
        ana = register(http, timezone="Europe/London", name="Ana <Example>")
        mum = create_person(http, ana, name="Mum", relationship="parent", closeness=1)
        sam = create_person(http, ana, name="Sam", closeness=2)
        create_person(http, ana, name="Old friend", closeness=3)
        create_focus_area(
            http, ana, problem_area="role_dispute", title="Arguments with Mum",
            dispute_stage="renegotiation", person_ids=[mum["id"]],
        )  # fmt: skip
        sessions = [
            create_session(http, ana, number=n, held_at=at(day, 17))
            for n, day in enumerate(["2026-10-15", "2026-11-12", "2026-11-26", "2026-12-03"], 1)
        ]
        # The interval before session 4: 26 Nov → 3 Dec.
        for day, mood, named in [
            ("2026-11-27", 3, [mum]),
            ("2026-11-28", 6, [sam]),
            ("2026-11-29", 2, [mum, sam]),
            ("2026-11-30", 7, []),
            ("2026-12-01", 1, [mum]),
            ("2026-12-02", 5, [sam]),
        ]:
            create_entry(
                http, ana, occurred_at=at(day), mood=mood, event=f"Event of {day}",
                people=[{"person_id": p["id"], "quality": -1} for p in named],
                communication={"what_i_said": f"Said on {day}", "what_i_felt": "hurt"},
            )  # fmt: skip
        create_entry(http, ana, occurred_at=at("2026-11-30", 21), mood=0, event=SECRET,
                     private=True, people=[{"person_id": mum["id"], "quality": -2}])  # fmt: skip
        create_measure(
            http, ana, answers=[1, 1, 1, 1, 1, 1, 0, 0, 2], completed_at=at("2026-12-01")
        )
        # Earlier: the weeks the mood chart reaches back to.
        for days_before, mood in [(40, 6), (30, 4), (20, 5)]:
            day = (date(2026, 12, 3) - timedelta(days=days_before)).isoformat()
            create_entry(http, ana, occurred_at=at(day), mood=mood)
        return Diary(ana, sessions, {"mum": mum, "sam": sam})


def built(app: FastAPI, diary: Diary, *, private: bool, text: bool, session: int | None) -> Brief:
    keys = KeyRing.from_settings(app.state.settings)
    scope = OwnerScope(
        uuid.UUID(diary.account.id), include_private=private, timezone="Europe/London"
    )
    session_id = uuid.UUID(diary.sessions[session - 1]["id"]) if session else None
    with Session(app.state.engine, info={KEYS: keys}) as db:
        return brief.build(db, scope, session_id, with_text=text, now=NOW)


def summary(client: TestClient, diary: Diary, kind: str, **params: Any) -> Any:
    response = client.get(f"/v1/summaries/{kind}", params=params, headers=diary.account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_interval_and_its_numbers_are_between_sessions(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    made = built(app, diary, private=True, text=True, session=4)
    between = summary(client, diary, "between-sessions", session_id=diary.sessions[3]["id"])
    assert (made.session and made.session.number, made.previous and made.previous.number) == (4, 3)
    assert (made.first_day, made.last_day) == (date(2026, 11, 26), date(2026, 12, 3))
    assert made.entries == between["entries"] == 7
    assert made.mean_mood == pytest.approx(between["mean_mood"])
    assert made.mean_mood_change == pytest.approx(between["mean_mood_change"])
    assert [(e.label, e.count) for e in made.emotions] == [
        (e["label"], e["count"]) for e in between["top_emotions"]
    ]
    assert made.client_name == "Ana <Example>"
    assert [(f.title, f.detail) for f in made.focus_areas] == [
        ("Arguments with Mum", "stage: renegotiation")
    ]


def test_people_are_mood_by_person_over_the_interval(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    made = built(app, diary, private=True, text=True, session=4)
    window = {"from": diary.sessions[2]["held_at"], "to": diary.sessions[3]["held_at"]}
    expected = [
        p for p in summary(client, diary, "mood-by-person", **window)["people"] if p["entries"]
    ]
    assert [(p.name, p.entries, p.delta, p.enough) for p in made.people] == [
        (p["name"], p["entries"], p["delta"], p["enough"]) for p in expected
    ]
    assert [p.delta_ci95 for p in made.people] == [
        tuple(p["delta_ci95"]) if p["delta_ci95"] else None for p in expected
    ]
    # The circle: everyone in the inventory, coloured by the interval's contacts.
    ring = {p.name: (p.closeness, p.entries, p.mean_quality) for p in made.circle}
    assert ring == {"Mum": (1, 4, -1.25), "Sam": (2, 3, -1.0), "Old friend": (3, 0, None)}


def test_mood_over_time_is_the_day_timeline_of_at_least_eight_weeks(
    client: TestClient, app: FastAPI, diary: Diary
) -> None:
    made = built(app, diary, private=True, text=True, session=4)
    assert made.window_first_day == date(2026, 10, 8)  # 8 weeks before 3 Dec
    window = {"from": at("2026-10-08", 17), "to": diary.sessions[3]["held_at"], "bucket": "day"}
    points = summary(client, diary, "mood-timeline", **window)["points"]
    assert [(d.day.isoformat(), d.entries, d.low, d.high) for d in made.days] == [
        (p["start"], p["entries"], p["min_mood"], p["max_mood"]) for p in points
    ]
    assert [s.number for s in made.sessions] == [1, 2, 3, 4]


def test_safety_comes_from_the_intervals_low_moods_and_item_9(app: FastAPI, diary: Diary) -> None:
    made = built(app, diary, private=True, text=True, session=4)
    assert [(s.reason, s.day, s.detail) for s in made.safety] == [
        ("low_mood", date(2026, 11, 30), "mood 0 of 10"),  # the private one: the client's own
        ("low_mood", date(2026, 12, 1), "mood 1 of 10"),
        ("phq9_item9", date(2026, 12, 1), "item 9 answered 2 of 3"),
    ]
    [phq9] = made.measures
    assert (phq9.instrument, phq9.total, phq9.severity, phq9.safety_answer) == (
        "phq9",
        8,
        "mild",
        2,
    )


def test_the_lowest_entries_keep_their_text_for_the_client_and_a_full_share(
    app: FastAPI, diary: Diary
) -> None:
    mine = built(app, diary, private=True, text=True, session=4)
    assert mine.lowest_entries is not None
    assert [(e.mood, e.event) for e in mine.lowest_entries] == [
        (0, SECRET), (1, "Event of 2026-12-01"), (2, "Event of 2026-11-29"),
    ]  # fmt: skip
    assert mine.lowest_entries[1].communication == (
        ("What I said", "Said on 2026-12-01"), ("What I felt", "hurt"),
    )  # fmt: skip
    assert sorted(mine.lowest_entries[2].people) == ["Mum", "Sam"]

    shared = built(app, diary, private=False, text=True, session=4)
    assert shared.lowest_entries is not None
    assert SECRET not in repr(shared)
    assert [e.mood for e in shared.lowest_entries] == [1, 2, 3]


def test_a_summaries_share_sees_no_text_and_no_private_entry(app: FastAPI, diary: Diary) -> None:
    made = built(app, diary, private=False, text=False, session=4)
    assert made.lowest_entries is None
    assert SECRET not in repr(made)
    assert "Event of" not in repr(made)
    assert "Said on" not in repr(made)
    assert made.entries == 6
    assert [s.detail for s in made.safety if s.reason == "low_mood"] == ["mood 1 of 10"]
    assert {p.name: p.entries for p in made.circle}["Mum"] == 3


def test_the_open_interval_runs_from_the_latest_session(app: FastAPI, diary: Diary) -> None:
    made = built(app, diary, private=True, text=True, session=None)
    assert made.session is None
    assert made.previous is not None
    assert made.previous.number == 4
    assert (made.first_day, made.last_day) == (date(2026, 12, 3), date(2026, 12, 10))
    assert (made.entries, made.mean_mood, made.people) == (0, None, ())
    assert [link.label for link in made.intervals][:2] == [
        "Since session 4 (open)", "Before session 4 (3 Dec 2026)",
    ]  # fmt: skip


def test_another_clients_session_is_not_found(app: FastAPI, diary: Diary) -> None:
    keys = KeyRing.from_settings(app.state.settings)
    stranger = OwnerScope(uuid.uuid4())
    with Session(app.state.engine, info={KEYS: keys}) as db, pytest.raises(NotFound):
        brief.build(db, stranger, uuid.UUID(diary.sessions[0]["id"]), with_text=True, now=NOW)
