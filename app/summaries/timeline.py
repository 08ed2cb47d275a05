"""Mood over time: one point per local day or Monday-based week that has entries.

Each entry counts on its own local date (`entries.local_date`, the date on the clock it was
written by), so no time-zone conversion happens per row, and an account that moves to
another zone keeps its history where it was.
"""

from typing import Any

from sqlalchemy import and_, func, literal_column
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, EntryPerson
from app.summaries.schemas import Bucket, MoodTimeline, TimelinePoint
from app.summaries.statements import Shape, WeekStart, entry_conditions, execute, mean


def _timeline(scope: OwnerScope, shape: Shape, bucket: Bucket) -> Select[Any]:
    def start() -> Any:
        local_date = col(Entry.local_date)
        return local_date if bucket is Bucket.day else WeekStart(local_date)

    # Two aggregates over the entries, each in one pass (a shared CTE made SQLite scan the
    # owner's every contact and index the CTE to join them: 1.9 ms against 1.5 ms for a
    # 500-entry diary), joined on their few buckets.
    moods = (
        sa_select(
            start().label("bucket"),
            func.count().label("entries"),
            mean(col(Entry.mood)).label("mean_mood"),
            func.min(col(Entry.mood)).label("min_mood"),
            func.max(col(Entry.mood)).label("max_mood"),
        )
        .where(*entry_conditions(scope, shape))
        .group_by(literal_column("bucket"))
        .subquery()
    )
    people = (
        sa_select(
            start().label("bucket"),
            func.count(func.distinct(col(EntryPerson.person_id))).label("people_count"),
        )
        .join(
            EntryPerson,
            and_(
                col(EntryPerson.owner_id) == col(Entry.owner_id),
                col(EntryPerson.entry_id) == col(Entry.id),
            ),
        )
        .where(*entry_conditions(scope, shape))
        .group_by(literal_column("bucket"))
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
