"""What happened between one therapy session and the next: the interval ending at a session
(default: open, after the latest session), compared with the interval before it."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from app.core.errors import NotFound
from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, EntryEmotion, Person
from app.models.therapy import Measure, Phase, TherapySession
from app.summaries.schemas import (
    BetweenSessions,
    EmotionStat,
    LowMoodEntry,
    MeasureInInterval,
    PersonInInterval,
)
from app.summaries.statements import (
    Bytewise,
    Shape,
    emotion_conditions,
    entry_conditions,
    execute,
    mean,
    per_person_totals,
    range_conditions,
    ratio,
)

TOP_EMOTIONS = 5
LOWEST_MOOD_ENTRIES = 3


@dataclass(frozen=True, slots=True)
class HeldSession:
    id: uuid.UUID
    number: int
    phase: Phase
    held_at: datetime


_SESSIONS = OwnerStatement(
    lambda scope: (
        sa_select(
            col(TherapySession.id),
            col(TherapySession.number),
            col(TherapySession.phase),
            col(TherapySession.held_at),
        )
        .where(*scope.conditions(TherapySession))
        .order_by(col(TherapySession.held_at), col(TherapySession.id))
    )
)


def held_sessions(session: Session, scope: OwnerScope) -> list[HeldSession]:
    """The owner's therapy sessions, oldest first."""
    statement, owner = _SESSIONS.bind(scope)
    return [HeldSession(*row) for row in session.connection().execute(statement, owner)]


@dataclass(frozen=True, slots=True)
class Interval:
    """The interval ending at a session (`ends_at` None: open, after the latest session),
    and the one before it."""

    ends_at: HeldSession | None
    starts_at: HeldSession | None  # the previous session; None: the diary's start
    range: TimeRange
    before: TimeRange | None


def interval_of(sessions: list[HeldSession], session_id: uuid.UUID | None) -> Interval:
    """The interval ending at the session (default: open, after the latest session) in
    `sessions` (oldest first)."""
    end = None
    earlier = sessions
    if session_id is not None:
        end = next((held for held in sessions if held.id == session_id), None)
        if end is None:
            # The same answer whether the id is unknown or belongs to someone else.
            raise NotFound(f"No session with id {session_id}")
        earlier = [held for held in sessions if held.held_at < end.held_at]
    start = earlier[-1] if earlier else None
    before = None
    if start is not None:
        previous = earlier[-2].held_at if len(earlier) > 1 else None
        before = TimeRange(previous, start.held_at)
    return Interval(
        ends_at=end,
        starts_at=start,
        range=TimeRange(start.held_at if start else None, end.held_at if end else None),
        before=before,
    )


_MOOD = OwnerStatement(
    lambda scope, shape: sa_select(func.count(), func.sum(col(Entry.mood))).where(
        *entry_conditions(scope, shape)
    )
)


def _people_in_interval(scope: OwnerScope, shape: Shape) -> Select[Any]:
    per_person = per_person_totals(scope, shape)
    return (
        sa_select(col(Person.id), col(Person.name), per_person.c.entries, per_person.c.mood_sum)
        .join_from(per_person, Person, per_person.c.person_id == col(Person.id))
        .where(*scope.conditions(Person))
        .order_by(per_person.c.entries.desc(), col(Person.id))
    )


_PEOPLE_IN_INTERVAL = OwnerStatement(_people_in_interval)


def _emotions_in_interval(scope: OwnerScope, shape: Shape) -> Select[str, int, float]:
    label = Bytewise(col(EntryEmotion.label))
    return (
        sa_select(label, func.count(), mean(EntryEmotion.intensity))
        .where(*emotion_conditions(scope, shape))
        .group_by(label)
        .order_by(func.count().desc(), label)
        .limit(TOP_EMOTIONS)
    )


_EMOTIONS_IN_INTERVAL = OwnerStatement(_emotions_in_interval)
_LOWEST_IN_INTERVAL = OwnerStatement(
    lambda scope, shape: (
        sa_select(
            col(Entry.id),
            col(Entry.occurred_at),
            col(Entry.occurred_at_offset_minutes),
            col(Entry.mood),
            col(Entry.event_type),
        )
        .where(*entry_conditions(scope, shape))
        .order_by(col(Entry.mood), col(Entry.occurred_at).desc(), col(Entry.id))
        .limit(LOWEST_MOOD_ENTRIES)
    )
)
_MEASURES_IN_INTERVAL = OwnerStatement(
    lambda scope, shape: (
        sa_select(
            col(Measure.id),
            col(Measure.instrument),
            col(Measure.total),
            col(Measure.severity),
            col(Measure.completed_at),
        )
        .where(*scope.conditions(Measure), *range_conditions(col(Measure.completed_at), shape))
        .order_by(col(Measure.completed_at), col(Measure.id))
    )
)


def _local(instant: datetime, offset_minutes: int) -> datetime:
    return instant.astimezone(timezone(timedelta(minutes=offset_minutes)))


@dataclass(frozen=True, slots=True)
class Mood:
    """The interval's entries and mean mood, and the change from the interval before."""

    entries: int
    mean: float | None
    change: float | None


def mood(session: Session, scope: OwnerScope, interval: Interval) -> Mood:
    count, mood_sum = execute(session, _MOOD, scope, interval.range).one()
    mean = ratio(mood_sum, count)
    mean_before = None
    if interval.before is not None:
        count_before, sum_before = execute(session, _MOOD, scope, interval.before).one()
        mean_before = ratio(sum_before, count_before)
    change = mean - mean_before if mean is not None and mean_before is not None else None
    return Mood(count, mean, change)


def top_emotions(session: Session, scope: OwnerScope, time_range: TimeRange) -> list[EmotionStat]:
    """The most frequent emotions in the range."""
    return [
        EmotionStat(label=label, count=n, mean_intensity=float(intensity))
        for label, n, intensity in execute(session, _EMOTIONS_IN_INTERVAL, scope, time_range)
    ]


def lowest_mood_entries(
    session: Session, scope: OwnerScope, time_range: TimeRange
) -> list[LowMoodEntry]:
    """Up to three entries of the range, lowest mood first, latest first among equals."""
    return [
        LowMoodEntry(id=entry_id, occurred_at=_local(at, minutes), mood=m, event_type=kind)
        for entry_id, at, minutes, m, kind in execute(
            session, _LOWEST_IN_INTERVAL, scope, time_range
        )
    ]


def between_sessions(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None
) -> BetweenSessions:
    interval = interval_of(held_sessions(session, scope), session_id)
    within = interval.range
    found = mood(session, scope, interval)
    people = execute(session, _PEOPLE_IN_INTERVAL, scope, within)
    measures = execute(session, _MEASURES_IN_INTERVAL, scope, within)
    return BetweenSessions(
        session_id=session_id,
        from_=within.start,
        to=within.end,
        entries=found.entries,
        mean_mood=found.mean,
        mean_mood_change=found.change,
        people=[
            PersonInInterval(
                person_id=person_id,
                name=decrypt_column(session, Person, "name", scope.owner_id, person_id, name),
                entries=n,
                mean_mood=named_sum / n,
            )
            for person_id, name, n, named_sum in people
        ],
        top_emotions=top_emotions(session, scope, within),
        lowest_mood_entries=lowest_mood_entries(session, scope, within),
        measures=[
            MeasureInInterval(
                id=measure_id,
                instrument=instrument,
                total=total,
                severity=severity,
                completed_at=completed_at,
            )
            for measure_id, instrument, total, severity, completed_at in measures
        ],
    )
