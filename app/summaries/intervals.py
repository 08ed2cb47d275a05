"""What happened between one therapy session and the next: the interval ending at a session
(default: open, after the latest session), compared with the interval before it."""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from app.core.errors import NotFound
from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, EntryEmotion, Person
from app.models.therapy import Measure, TherapySession
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

_HELD_AT = OwnerStatement(
    lambda scope: sa_select(col(TherapySession.held_at)).where(
        *scope.conditions(TherapySession), col(TherapySession.id) == bindparam("session_id")
    )
)


def _earlier_sessions(scope: OwnerScope, before_a_session: bool) -> Select[Any]:
    held_at = col(TherapySession.held_at)
    earlier = sa_select(held_at).where(*scope.conditions(TherapySession))
    if before_a_session:
        earlier = earlier.where(held_at < bindparam("held_at"))
    return earlier.order_by(held_at.desc()).limit(2)


_EARLIER_SESSIONS = OwnerStatement(_earlier_sessions)


def intervals(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None
) -> tuple[TimeRange, TimeRange | None]:
    """The interval ending at the session (default: open, after the latest session) and
    the interval before it, if there was one."""
    connection = session.connection()
    params: dict[str, Any] = {}
    edges: list[datetime | None] = [None]
    if session_id is not None:
        statement, params = _HELD_AT.bind(scope)
        end = connection.execute(statement, {**params, "session_id": session_id}).scalar()
        if end is None:
            # The same answer whether the id is unknown or belongs to someone else.
            raise NotFound(f"No session with id {session_id}")
        edges, params = [end], {"held_at": end}
    statement, owner = _EARLIER_SESSIONS.bind(scope, session_id is not None)
    edges += connection.execute(statement, {**owner, **params}).scalars().all()
    # edges: the interval's end, then up to two earlier sessions, newest first.
    interval = TimeRange(edges[1] if len(edges) > 1 else None, edges[0])
    before = TimeRange(edges[2] if len(edges) > 2 else None, edges[1]) if len(edges) > 1 else None
    return interval, before


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


def between_sessions(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None
) -> BetweenSessions:
    interval, before = intervals(session, scope, session_id)
    count, mood_sum = execute(session, _MOOD, scope, interval).one()
    mean_mood = ratio(mood_sum, count)
    mean_before = None
    if before is not None:
        count_before, sum_before = execute(session, _MOOD, scope, before).one()
        mean_before = ratio(sum_before, count_before)
    people = execute(session, _PEOPLE_IN_INTERVAL, scope, interval)
    emotions = execute(session, _EMOTIONS_IN_INTERVAL, scope, interval)
    lowest = execute(session, _LOWEST_IN_INTERVAL, scope, interval)
    measures = execute(session, _MEASURES_IN_INTERVAL, scope, interval)
    return BetweenSessions(
        session_id=session_id,
        from_=interval.start,
        to=interval.end,
        entries=count,
        mean_mood=mean_mood,
        mean_mood_change=(
            mean_mood - mean_before if mean_mood is not None and mean_before is not None else None
        ),
        people=[
            PersonInInterval(
                person_id=person_id,
                name=decrypt_column(session, Person, "name", scope.owner_id, person_id, name),
                entries=n,
                mean_mood=named_sum / n,
            )
            for person_id, name, n, named_sum in people
        ],
        top_emotions=[
            EmotionStat(label=label, count=n, mean_intensity=float(intensity))
            for label, n, intensity in emotions
        ],
        lowest_mood_entries=[
            LowMoodEntry(id=entry_id, occurred_at=_local(at, minutes), mood=m, event_type=kind)
            for entry_id, at, minutes, m, kind in lowest
        ],
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
