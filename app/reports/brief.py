"""The session brief's content, put together from the summaries: nothing is computed twice.

The interval is the one `between-sessions` answers (from the sessions held,
app.summaries.intervals); the people, their intervals and the closeness circle come from one
`mood_by_person` over it; the mood chart is the day timeline over a window of at least
eight weeks; the lowest-mood entries' text is read through the entry projection, and only
when the reader may see text (the client, a `full` share).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.entries.projection import EntryWriter, entry_rows
from app.measures import schedule
from app.measures.instruments import SafetyItem as InstrumentSafetyItem
from app.measures.instruments import spec_of
from app.models.account import User
from app.models.diary import EARLIEST, Entry, FocusArea, FocusStatus, Person, ProblemArea
from app.models.therapy import Measure
from app.reports.brief_data import (
    Brief,
    CirclePerson,
    DayMood,
    DueLine,
    EmotionCount,
    FocusAreaLine,
    IntervalLink,
    LowEntry,
    MeasurePoint,
    PersonComparison,
    SafetyItem,
    SessionMark,
)
from app.safety.schemas import LOW_MOOD_THRESHOLD
from app.summaries import intervals, people, timeline
from app.summaries.intervals import HeldSession
from app.summaries.schemas import Bucket, PersonMood

WINDOW = timedelta(weeks=8)  # mood over time: at least this much before the interval's end
LONGEST_WINDOW = timedelta(weeks=26)  # a long first interval is cut to stay legible
MEASURES_BACK = timedelta(weeks=52)
# The communication analysis, as the brief asks it (EntryPublic's `communication` keys).
QUESTIONS = {
    "what_i_said": "What I said",
    "what_they_said": "What they said",
    "what_i_felt": "What I felt",
    "what_i_wanted": "What I wanted",
    "what_happened": "What happened",
    "what_i_could_try": "What I could try",
}

_CLIENT_NAME = sa_select(col(User.display_name)).where(col(User.id) == bindparam("user_id"))
_INVENTORY = OwnerStatement(
    lambda scope: (
        sa_select(
            col(Person.id),
            col(Person.name),
            col(Person.closeness),
            col(Person.relationship),
            col(Person.deceased),
            col(Person.archived_at),
        )
        .where(*scope.conditions(Person))
        .order_by(col(Person.closeness), col(Person.created_at), col(Person.id))
    )
)
_ACTIVE_FOCUS_AREAS = OwnerStatement(
    lambda scope: (
        sa_select(
            col(FocusArea.id),
            col(FocusArea.title),
            col(FocusArea.problem_area),
            col(FocusArea.dispute_stage),
            col(FocusArea.from_role),
            col(FocusArea.to_role),
        )
        .where(*scope.conditions(FocusArea), col(FocusArea.status) == FocusStatus.active)
        .order_by(col(FocusArea.created_at), col(FocusArea.id))
    )
)
_MEASURES = OwnerStatement(
    lambda scope: (
        sa_select(
            col(Measure.instrument),
            col(Measure.completed_at),
            col(Measure.total),
            col(Measure.severity),
            col(Measure.answers),
        )
        .where(
            *scope.conditions(Measure),
            col(Measure.completed_at) >= bindparam("measures_from"),
            col(Measure.completed_at) < bindparam("measures_to"),
        )
        .order_by(col(Measure.completed_at), col(Measure.id))
    )
)
_LOW_MOODS = OwnerStatement(
    lambda scope, bounded: (
        sa_select(col(Entry.occurred_at), col(Entry.mood))
        .where(
            *scope.conditions(Entry),
            col(Entry.mood) <= LOW_MOOD_THRESHOLD,
            col(Entry.occurred_at) >= bindparam("low_from"),
            *([col(Entry.occurred_at) < bindparam("low_to")] if bounded else []),
        )
        .order_by(col(Entry.occurred_at))
    )
)
_ENTRIES = OwnerStatement(
    lambda scope: entry_rows(scope).where(col(Entry.id).in_(bindparam("ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class _Known:
    """A person of the inventory, as the brief names them."""

    name: str
    closeness: int
    relationship: str
    deceased: bool
    archived: bool


def build(
    session: Session,
    scope: OwnerScope,
    session_id: uuid.UUID | None,
    *,
    with_text: bool,
    now: datetime,
) -> Brief:
    """The brief of the interval ending at `session_id` (None: the open interval after the
    latest session) as `scope` may see it; the entries' text only `with_text`."""
    zone = ZoneInfo(scope.timezone)
    sessions = intervals.held_sessions(session, scope)
    interval = intervals.interval_of(sessions, session_id)
    start, end = interval.range.start, interval.range.end or now
    window_start = max(end - LONGEST_WINDOW, min(start or end - WINDOW, end - WINDOW))
    mood = intervals.mood(session, scope, interval)
    by_person = people.mood_by_person(session, scope, interval.range)
    days = timeline.mood_timeline(session, scope, TimeRange(window_start, end), Bucket.day)
    measures = _measures(session, scope, end, zone)
    inventory = _inventory(session, scope)

    def mark(held: HeldSession) -> SessionMark:
        return SessionMark(held.id, held.number, held.phase, held.held_at, _day(held.held_at, zone))

    safety_answers = tuple(
        _safety_answer(point, item, at, zone)
        for at, point in measures
        if point.safety_answer
        and (item := spec_of(point.instrument).safety_item)
        and (start is None or at >= start)
    )
    return Brief(
        client_name=_client_name(session, scope),
        timezone=scope.timezone,
        generated_at=now,
        session=mark(interval.ends_at) if interval.ends_at else None,
        previous=mark(interval.starts_at) if interval.starts_at else None,
        first_day=_day(start, zone) if start else None,
        last_day=_day(end - timedelta(microseconds=1), zone),
        focus_areas=_focus_areas(session, scope),
        safety=_low_moods(session, scope, interval.range, zone) + safety_answers,
        entries=mood.entries,
        mean_mood=mood.mean,
        mean_mood_change=mood.change,
        window_first_day=_day(window_start, zone),
        days=tuple(
            DayMood(p.start, p.entries, p.mean_mood, p.min_mood, p.max_mood) for p in days.points
        ),
        sessions=tuple(mark(held) for held in sessions if window_start <= held.held_at <= end),
        people=tuple(_comparison(person) for person in by_person.people if person.entries),
        measures=tuple(point for _, point in measures),
        due=_due(session, scope, end, zone),
        circle=_circle(inventory, {person.person_id: person for person in by_person.people}),
        emotions=tuple(
            EmotionCount(e.label, e.count, e.mean_intensity)
            for e in intervals.top_emotions(session, scope, interval.range)
        ),
        lowest_entries=(
            _lowest_entries(session, scope, interval.range, inventory) if with_text else None
        ),
        intervals=_links(sessions, zone),
    )


def _day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def _client_name(session: Session, scope: OwnerScope) -> str:
    stored = session.connection().execute(_CLIENT_NAME, {"user_id": scope.owner_id}).scalar_one()
    owner = scope.owner_id
    name: str = decrypt_column(session, User, "display_name", owner, owner, stored)
    return name


def _focus_areas(session: Session, scope: OwnerScope) -> tuple[FocusAreaLine, ...]:
    statement, owner = _ACTIVE_FOCUS_AREAS.bind(scope)
    lines = []
    for row in session.connection().execute(statement, owner):
        area_id, title, problem_area, stage, from_role, to_role = row

        def plain(field: str, stored: Any, area_id: uuid.UUID = area_id) -> Any:
            return decrypt_column(session, FocusArea, field, scope.owner_id, area_id, stored)

        detail = None
        if problem_area == ProblemArea.role_dispute and stage is not None:
            detail = f"stage: {stage}"
        elif problem_area == ProblemArea.role_transition and (from_role or to_role):
            detail = f"{plain('from_role', from_role) or '…'} → {plain('to_role', to_role) or '…'}"
        lines.append(FocusAreaLine(plain("title", title), str(problem_area), detail))
    return tuple(lines)


def _measures(
    session: Session, scope: OwnerScope, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, MeasurePoint]]:
    """The measures of the year before `end`, with the instant each was done."""
    statement, owner = _MEASURES.bind(scope)
    rows = session.connection().execute(
        statement, {**owner, "measures_from": end - MEASURES_BACK, "measures_to": end}
    )
    return [
        (
            completed_at,
            MeasurePoint(
                instrument=str(instrument),
                day=_day(completed_at, zone),
                total=total,
                severity=severity,
                safety_answer=spec_of(instrument).safety_answer(answers),
            ),
        )
        for instrument, completed_at, total, severity, answers in rows
    ]


def _safety_answer(
    point: MeasurePoint, item: InstrumentSafetyItem, at: datetime, zone: ZoneInfo
) -> SafetyItem:
    highest = spec_of(point.instrument).item_max
    text = f"item {item.number} answered {point.safety_answer} of {highest}"
    return SafetyItem(item.reason.value, _day(at, zone), text)


def _due(
    session: Session, scope: OwnerScope, end: datetime, zone: ZoneInfo
) -> tuple[DueLine, ...] | None:
    """What the schedule makes due at the interval's end (its closing session counted)."""
    if not schedule.read(session, scope):
        return None
    return tuple(
        DueLine(
            name=spec_of(item.instrument).name,
            reason=item.reason.value,
            last_day=_day(item.last_completed_at, zone) if item.last_completed_at else None,
            sessions_since=item.sessions_since,
            days_since=item.days_since,
        )
        for item in schedule.due(session, scope, end).due
    )


def _low_moods(
    session: Session, scope: OwnerScope, interval: TimeRange, zone: ZoneInfo
) -> tuple[SafetyItem, ...]:
    statement, owner = _LOW_MOODS.bind(scope, interval.end is not None)
    parameters = {**owner, "low_from": interval.start or EARLIEST, "low_to": interval.end}
    return tuple(
        SafetyItem("low_mood", _day(at, zone), f"mood {mood} of 10")
        for at, mood in session.connection().execute(statement, parameters)
    )


def _comparison(person: PersonMood) -> PersonComparison:
    return PersonComparison(
        name=person.name,
        closeness=person.closeness,
        entries=person.entries,
        mean_with=person.mean_mood,
        mean_without=person.mean_mood_without,
        delta=person.delta,
        delta_ci95=person.delta_ci95,
        enough=person.enough,
    )


def _inventory(session: Session, scope: OwnerScope) -> dict[uuid.UUID, _Known]:
    statement, owner = _INVENTORY.bind(scope)
    return {
        person_id: _Known(
            decrypt_column(session, Person, "name", scope.owner_id, person_id, name),
            closeness,
            str(relationship),
            deceased,
            archived_at is not None,
        )
        for person_id, name, closeness, relationship, deceased, archived_at in (
            session.connection().execute(statement, owner)
        )
    }


def _circle(
    inventory: dict[uuid.UUID, _Known], in_interval: dict[uuid.UUID, PersonMood]
) -> tuple[CirclePerson, ...]:
    """The inventory on its rings: everyone current, and the archived named in the interval."""
    circle = []
    for person_id, known in inventory.items():
        found = in_interval.get(person_id)
        entries = found.entries if found else 0
        if known.archived and not entries:
            continue
        quality = found.mean_quality if found and entries else None
        circle.append(
            CirclePerson(
                known.name, known.closeness, known.relationship, known.deceased, entries, quality
            )
        )
    return tuple(circle)


def _lowest_entries(
    session: Session, scope: OwnerScope, interval: TimeRange, inventory: dict[uuid.UUID, _Known]
) -> tuple[LowEntry, ...]:
    lowest = intervals.lowest_mood_entries(session, scope, interval)
    if not lowest:
        return ()
    statement, owner = _ENTRIES.bind(scope)
    rows = session.connection().execute(statement, {**owner, "ids": [e.id for e in lowest]})
    writer = EntryWriter(session, scope)
    by_id = {uuid.UUID(row[1]): writer.fields(row) for row in rows}
    entries = []
    for low in lowest:
        entry = by_id[low.id]
        answered = entry["communication"] or {}
        named = (uuid.UUID(person["person_id"]) for person in entry["people"])
        entries.append(
            LowEntry(
                occurred_at=low.occurred_at,
                mood=low.mood,
                event_type=str(low.event_type),
                event=entry["event"],
                people=tuple(inventory[pid].name for pid in named if pid in inventory),
                communication=tuple(
                    (question, answered[key])
                    for key, question in QUESTIONS.items()
                    if answered.get(key)
                ),
            )
        )
    return tuple(entries)


def _links(sessions: list[HeldSession], zone: ZoneInfo) -> tuple[IntervalLink, ...]:
    """Every interval of the diary, latest (the open one) first."""
    links = []
    if sessions:
        links.append(IntervalLink(None, f"Since session {sessions[-1].number} (open)"))
    for held in reversed(sessions):
        day = _day(held.held_at, zone)
        links.append(IntervalLink(held.id, f"Before session {held.number} ({day:%-d %b %Y})"))
    return tuple(links)
