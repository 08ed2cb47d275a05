"""Every summary equals an independent reference computed over the diary the test wrote.

Hypothesis draws whole diaries — people (some archived later), focus areas, entries with
moods, qualities and emotions (some about one person), private entries, therapy sessions and
measures — in time zones with odd offsets, at instants around DST changes and local
Sunday/Monday midnights. Entries are written on the clock of the account's zone, or of
another zone (a trip), and the account may move to another zone halfway through: each entry
keeps its own local date. Each example registers one account and writes the diary through
the API; `tests/summaries/reference.py` computes what each summary must be, for the client
and for a therapist the diary is shared with (who sees no private entry).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.factories import (
    Account,
    create_entry,
    create_focus_area,
    create_measure,
    create_person,
    create_session,
    register,
    set_timezone,
    share_with,
)
from tests.summaries import reference
from tests.summaries.reference import Diary

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
    "Pacific/Chatham",
]
# The 2026 DST changes of the zones above (all on a Sunday, local time).
DST_CHANGES = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London springs forward
    datetime(2026, 4, 4, 14, 0, tzinfo=UTC),  # Chatham falls back
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe falls back half an hour
    datetime(2026, 9, 26, 14, 0, tzinfo=UTC),  # Chatham springs forward
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe springs forward half an hour
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # London falls back
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
]
# Local midnight at the start of the Monday after each change, in every zone.
MONDAYS = [date(2026, 3, 9), date(2026, 3, 30), date(2026, 4, 6), date(2026, 9, 28)]
MONDAYS += [date(2026, 10, 5), date(2026, 10, 26), date(2026, 11, 2)]
WEEK_STARTS = [
    datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    for zone in ZONES
    for day in MONDAYS
]
ANCHORS = sorted(set(DST_CHANGES + WEEK_STARTS))
LABELS = ["sad", "hurt", "calm", "angry", "lonely", "hopeful", "resentful"]
EVENT_TYPES = ["conversation", "conflict", "support_received", "isolation", "other"]
PROBLEM_AREAS = ["grief", "role_dispute", "role_transition", "interpersonal_deficits"]

REFERENCE_SETTINGS = settings(
    max_examples=15,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Around an anchor: on the quarter hour (hits midnights and DST instants exactly), any
# second, or any millisecond (what a phone's clock gives).
offsets = st.one_of(
    st.integers(-4 * 24 * 4, 4 * 24 * 4).map(lambda quarters: timedelta(minutes=15 * quarters)),
    st.integers(-3 * 86400, 3 * 86400).map(lambda seconds: timedelta(seconds=seconds)),
    st.integers(-3 * 86400 * 1000, 3 * 86400 * 1000).map(lambda ms: timedelta(milliseconds=ms)),
)
instants = st.builds(lambda anchor, offset: anchor + offset, st.sampled_from(ANCHORS), offsets)


@dataclass
class EntryPlan:
    at: datetime
    zone: str | None  # the clock it is written on; None: the account's zone at the time
    mood: int
    event_type: str
    people: list[tuple[int, int | None]]  # (index into the plan's people, quality)
    emotions: list[tuple[str, int, int | None]]  # (label, intensity, person index or None)
    focus_area: int | None
    private: bool


@dataclass
class Plan:
    timezone: str
    people: list[tuple[int, bool]]  # (closeness, archive after writing the entries)
    focus_areas: int
    entries: list[EntryPlan]
    sessions: list[datetime]
    measures: list[tuple[str, list[int], datetime]]
    start: datetime | None
    end: datetime | None
    move: tuple[int, str] | None  # after this many entries the account moves to that zone


@st.composite
def entry_plans(draw: st.DrawFn, people: int, focus_areas: int) -> EntryPlan:
    named = draw(st.lists(st.integers(0, people - 1), unique=True, max_size=3)) if people else []
    about = st.one_of(st.none(), st.sampled_from(named)) if named else st.none()
    return EntryPlan(
        at=draw(instants),
        zone=draw(st.one_of(st.none(), st.none(), st.sampled_from(ZONES))),
        mood=draw(st.integers(0, 10)),
        event_type=draw(st.sampled_from(EVENT_TYPES)),
        people=[(index, draw(st.one_of(st.none(), st.integers(-2, 2)))) for index in named],
        emotions=draw(
            st.lists(st.tuples(st.sampled_from(LABELS), st.integers(0, 10), about), max_size=4)
        ),
        focus_area=draw(st.one_of(st.none(), st.integers(0, focus_areas - 1)))
        if focus_areas
        else None,
        private=draw(st.booleans()),
    )


def measure_plans() -> st.SearchStrategy[tuple[str, list[int], datetime]]:
    return st.one_of(
        st.tuples(st.just("phq9"), st.lists(st.integers(0, 3), min_size=9, max_size=9), instants),
        st.tuples(st.just("gad7"), st.lists(st.integers(0, 3), min_size=7, max_size=7), instants),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    people = draw(st.lists(st.tuples(st.integers(1, 3), st.booleans()), max_size=4))
    focus_areas = draw(st.integers(0, 3))
    entries = draw(st.lists(entry_plans(len(people), focus_areas), max_size=12))
    sessions = draw(st.lists(instants, unique=True, max_size=3))
    measures = draw(st.lists(measure_plans(), max_size=3, unique_by=lambda m: m[2]))
    start, end = draw(st.one_of(st.none(), instants)), draw(st.one_of(st.none(), instants))
    if start is not None and end is not None and start > end:
        start, end = end, start  # `from` after `to` is another test's business
    move = draw(st.one_of(st.none(), st.tuples(st.integers(0, 12), st.sampled_from(ZONES))))
    return Plan(
        timezone=draw(st.sampled_from(ZONES)),
        people=people,
        focus_areas=focus_areas,
        entries=entries,
        sessions=sessions,
        measures=measures,
        start=start,
        end=end,
        move=move,
    )


def local_text(at: datetime, zone: str) -> str:
    """The instant written with the account's local offset (e.g. +13:45 in Chatham)."""
    return at.astimezone(ZoneInfo(zone)).isoformat()


def write(client: TestClient, plan: Plan) -> tuple[Account, Diary]:
    """One account per example; the diary goes in through the public API only."""
    account = register(client)
    zone = plan.timezone
    set_timezone(client, account, zone)
    diary = Diary()
    for index, (closeness, _) in enumerate(plan.people):
        person = create_person(client, account, name=f"Person {index}", closeness=closeness)
        diary.people.append(reference.Person(person["id"], person["name"], closeness))
    for index in range(plan.focus_areas):
        area = create_focus_area(
            client,
            account,
            problem_area=PROBLEM_AREAS[index % 4],
            title=f"Focus {index}",
            status="active" if index < 2 else "resolved",  # at most two active at once
        )
        diary.focus_areas.append(
            reference.FocusArea(area["id"], area["title"], PROBLEM_AREAS[index % 4])
        )
    for written, plan_entry in enumerate(plan.entries):
        if plan.move is not None and plan.move[0] == written:
            zone = plan.move[1]  # the account moves: past entries keep their days
            set_timezone(client, account, zone)
        on_clock = plan_entry.at.astimezone(ZoneInfo(plan_entry.zone or zone))
        # As a fixed offset, as the device writes it (and free of the zone's fold semantics).
        occurred_at = on_clock.astimezone(timezone(on_clock.utcoffset() or timedelta()))
        people = [(diary.people[i].id, quality) for i, quality in plan_entry.people]
        emotions = [
            reference.Emotion(label, intensity, None if about is None else diary.people[about].id)
            for label, intensity, about in plan_entry.emotions
        ]
        focus = None if plan_entry.focus_area is None else diary.focus_areas[plan_entry.focus_area]
        created = create_entry(
            client,
            account,
            occurred_at=occurred_at.isoformat(),
            mood=plan_entry.mood,
            event_type=plan_entry.event_type,
            people=[{"person_id": pid, "quality": quality} for pid, quality in people],
            emotions=[
                {"label": e.label, "intensity": e.intensity, "person_id": e.person_id}
                for e in emotions
            ],
            focus_area_id=None if focus is None else focus.id,
            private=plan_entry.private,
        )
        diary.entries.append(
            reference.Entry(
                id=created["id"],
                occurred_at=occurred_at,
                mood=plan_entry.mood,
                event_type=plan_entry.event_type,
                people=people,
                emotions=emotions,
                focus_area_id=None if focus is None else focus.id,
                private=plan_entry.private,
            )
        )
    for person, (_, archive) in zip(list(diary.people), plan.people, strict=True):
        if archive:
            response = client.delete(
                f"/v1/people/{person.id}", headers={**account.headers, "If-Match": "*"}
            )
            assert response.status_code == 204, response.text
            if any(e.names(person.id) for e in diary.entries):
                person.archived = True  # named in entries: archived, not deleted
            else:
                diary.people.remove(person)
    for number, held_at in enumerate(plan.sessions, start=1):
        session = create_session(client, account, held_at=local_text(held_at, zone), number=number)
        diary.sessions.append(reference.Session(session["id"], held_at, number))
    for instrument, answers, completed_at in plan.measures:
        measure = create_measure(
            client,
            account,
            instrument=instrument,
            answers=answers,
            completed_at=local_text(completed_at, zone),
        )
        diary.measures.append(reference.Measure(measure["id"], instrument, answers, completed_at))
    diary.timezone = zone  # the account's zone now, which the summaries report
    return account, diary


def range_params(plan: Plan) -> dict[str, str]:
    params = {}
    if plan.start is not None:
        params["from"] = local_text(plan.start, plan.timezone)
    if plan.end is not None:
        params["to"] = local_text(plan.end, plan.timezone)
    return params


def differences_from_reference(
    client: TestClient, viewer: Account, summaries: str, diary: Diary, plan: Plan
) -> list[str]:
    """What `viewer` gets from every summary under `summaries` (a path) against the
    reference over `diary`: one line per difference."""
    found: list[str] = []

    def check(kind: str, expected: Any, what: str, **params: Any) -> None:
        response = client.get(f"{summaries}/{kind}", params=params, headers=viewer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if kind == "focus-areas":  # the API promises no order: compare by id
            areas = body["focus_areas"]
            body = {area["focus_area_id"]: area for area in areas}
            if len(body) != len(areas):
                found.append(f"{summaries} {what}: a focus area is listed twice: {areas}")
        found.extend(reference.differences(body, expected, f"{summaries} {what}"))

    window = range_params(plan)
    start, end = plan.start, plan.end
    check("mood-by-person", reference.mood_by_person(diary), "mood-by-person, all time")
    check("mood-by-person", reference.mood_by_person(diary, start, end), "mood-by-person", **window)
    for bucket in ("day", "week"):
        expected = reference.mood_timeline(diary, bucket, start, end)
        check("mood-timeline", expected, f"{bucket} timeline", bucket=bucket, **window)
    check("focus-areas", reference.focus_areas(diary, start, end), "focus-areas", **window)
    check("between-sessions", reference.between_sessions(diary), "latest interval")
    for held in diary.sessions:
        expected = reference.between_sessions(diary, held.id)
        check("between-sessions", expected, f"interval to #{held.number}", session_id=held.id)
    return found


@REFERENCE_SETTINGS
@given(plan=plans())
def test_every_summary_equals_the_reference(client: TestClient, plan: Plan) -> None:
    note(f"plan: {plan!r}")
    account, diary = write(client, plan)
    therapist = register(client, role="therapist", name="Dr Lee")
    share_with(client, account, therapist, "summaries")
    shared = replace(diary, entries=[entry for entry in diary.entries if not entry.private])

    found = differences_from_reference(client, account, "/v1/summaries", diary, plan)
    # The therapist's summaries of the client are the same without the private entries.
    therapists_view = f"/v1/therapist/clients/{account.id}/summaries"
    found += differences_from_reference(client, therapist, therapists_view, shared, plan)
    assert not found, "\n".join(found)
