"""Mood over time: one point per local day or Monday-based week that has entries.

Each entry counts on its own local date (`entries.local_date`, the date on the clock it was
written by), so no time-zone conversion happens per row, and an account that moves to
another zone keeps its history where it was.
"""

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, EntryPerson
from app.summaries.schemas import Bucket, MoodTimeline, TimelinePoint
from app.summaries.statements import Shape, WeekStart, entry_conditions, execute, mean


def _timeline(scope: OwnerScope, shape: Shape, bucket: Bucket) -> Select[Any]:
    local_date = col(Entry.local_date)
    start = local_date if bucket is Bucket.day else WeekStart(local_date)
    entries = (
        sa_select(col(Entry.id), col(Entry.mood), start.label("bucket"))
        .where(*entry_conditions(scope, shape))
        .cte("scoped_entries")
    )
    moods = (
        sa_select(
            entries.c.bucket,
            func.count().label("entries"),
            mean(entries.c.mood).label("mean_mood"),
            func.min(entries.c.mood).label("min_mood"),
            func.max(entries.c.mood).label("max_mood"),
        )
        .group_by(entries.c.bucket)
        .subquery()
    )
    people = (
        sa_select(
            entries.c.bucket,
            func.count(func.distinct(col(EntryPerson.person_id))).label("people_count"),
        )
        .join_from(entries, EntryPerson, col(EntryPerson.entry_id) == entries.c.id)
        .where(*scope.conditions(EntryPerson))
        .group_by(entries.c.bucket)
        .subquery()
    )
    return (
        sa_select(
            moods.c.bucket,
            moods.c.entries,
            moods.c.mean_mood,
            moods.c.min_mood,
            moods.c.max_mood,
            func.coalesce(people.c.people_count, 0),
        )
        .outerjoin(people, people.c.bucket == moods.c.bucket)
        .order_by(moods.c.bucket)
    )


_TIMELINE = OwnerStatement(_timeline)


def mood_timeline(
    session: Session, scope: OwnerScope, time_range: TimeRange, bucket: Bucket
) -> MoodTimeline:
    rows = execute(session, _TIMELINE, scope, time_range, bucket)
    return MoodTimeline(
        timezone=scope.timezone,
        bucket=bucket,
        points=[
            TimelinePoint(
                start=start,
                entries=count,
                mean_mood=mean_mood,
                min_mood=low,
                max_mood=high,
                people_count=people_count,
            )
            for start, count, mean_mood, low, high, people_count in rows
        ],
    )
