"""Mood-versus-relationship summaries, aggregated by the database.

Every function returns aggregates straight from SQL (counts, sums, means per group); no
function loads a client's entries into Python. Each takes an `OwnerScope`, so the same
code serves the client and a therapist (whose scope leaves out private entries).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    true,
)
from sqlalchemy import select as sa_select
from sqlalchemy.sql import CompoundSelect, Select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import (
    Entry,
    EntryEmotion,
    EntryPerson,
    EventType,
    FocusArea,
    Person,
)
from app.models.therapy import Measure, TherapySession
from app.summaries import localtime
from app.summaries.schemas import (
    Baseline,
    BetweenSessions,
    Bucket,
    EmotionStat,
    FocusAreaMood,
    FocusAreaSummary,
    LowMoodEntry,
    MeasureInInterval,
    MoodByPerson,
    MoodTimeline,
    PersonInInterval,
    PersonMood,
    TimelinePoint,
)
from app.summaries.statements import (
    Bytewise,
    Shape,
    emotion_conditions,
    entry_conditions,
    entry_conditions_in,
    execute,
    mean,
    per_person_totals,
    scoped_entries,
)

TOP_EMOTIONS = 5
LOWEST_MOOD_ENTRIES = 3


def _emotion_stats(rows: Any) -> list[EmotionStat]:
    return [
        EmotionStat(label=label, count=count, mean_intensity=float(mean))
        for label, count, mean in rows
    ]


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# --- mood by person -----------------------------------------------------------------------


def _people_and_baseline(scope: OwnerScope, shape: Shape) -> CompoundSelect[Any]:
    """One row for the baseline (all scoped entries in the range: count and mood sum),
    first, then one per person: the people's rows carry kind 1, the baseline's kind 0."""
    per_person = per_person_totals(scope, shape)
    named = func.coalesce(per_person.c.entries, 0)
    people = (
        sa_select(
            literal_column("1").label("kind"),
            col(Person.id).label("id"),
            col(Person.name).label("name"),
            col(Person.closeness).label("closeness"),
            named.label("entries"),
            func.coalesce(per_person.c.mood_sum, 0).label("mood_sum"),
            per_person.c.quality_sum.label("quality_sum"),
            per_person.c.qualities.label("qualities"),
        )
        .outerjoin(per_person, per_person.c.person_id == col(Person.id))
        .where(
            *scope.conditions(Person),
            or_(col(Person.archived_at).is_(None), per_person.c.entries > 0),
        )
    )
    # Second, so that the result's column types (a UUID, the ciphertext) are the people's.
    columns: list[ColumnElement[Any]] = [
        literal_column("0"),
        null(),
        null(),
        null(),
        func.count(),
        func.coalesce(func.sum(col(Entry.mood)), 0),
        null(),
        null(),
    ]
    baseline = sa_select(*columns).where(*entry_conditions(scope, shape))
    both = union_all(people, baseline)
    ordered = both.selected_columns
    return both.order_by(ordered.kind, ordered.entries.desc(), ordered.id)


_PEOPLE_AND_BASELINE = OwnerStatement(_people_and_baseline)


def mood_by_person(session: Session, scope: OwnerScope, time_range: TimeRange) -> MoodByPerson:
    rows = execute(session, _PEOPLE_AND_BASELINE, scope, time_range).all()
    _, _, _, _, count, mood_sum, _, _ = rows[0]
    emotions = _top_emotions_per_person(session, scope, time_range)

    people = []
    for _, person_id, name, closeness, named_count, named_sum, quality_sum, qualities in rows[1:]:
        mean = _ratio(named_sum, named_count)
        without = _ratio(mood_sum - named_sum, count - named_count)
        people.append(
            PersonMood(
                person_id=person_id,
                name=decrypt_column(session, Person, "name", scope.owner_id, person_id, name),
                closeness=closeness,
                entries=named_count,
                mean_mood=mean,
                mean_mood_without=without,
                delta=mean - without if mean is not None and without is not None else None,
                mean_quality=_ratio(quality_sum, qualities),
                top_emotions=emotions.get(person_id, []),
            )
        )
    return MoodByPerson(
        timezone=scope.timezone,
        baseline=Baseline(entries=count, mean_mood=_ratio(mood_sum, count)),
        people=people,
    )


def _top_emotions(scope: OwnerScope, shape: Shape) -> Select[Any]:
    # An emotion about one person counts for that person (always one of its entry's
    # people); one about nobody in particular counts for every person its entry names.
    person_id = func.coalesce(col(EntryEmotion.person_id), col(EntryPerson.person_id))
    # Only the latter look their entry's people up: a NULL key finds no row without a
    # search (as a separate ON condition, SQLite would search, then discard the rows).
    entry_of_emotion_about_nobody = case(
        (col(EntryEmotion.person_id).is_(None), col(EntryEmotion.entry_id))
    )
    label = Bytewise(col(EntryEmotion.label))
    per_label = (
        sa_select(
            person_id.label("person_id"),
            label.label("label"),
            func.count().label("count"),
            func.sum(col(EntryEmotion.intensity)).label("intensity_sum"),
        )
        .select_from(EntryEmotion)
        .outerjoin(
            EntryPerson,
            and_(
                col(EntryPerson.owner_id) == col(EntryEmotion.owner_id),
                col(EntryPerson.entry_id) == entry_of_emotion_about_nobody,
            ),
        )
        .where(*emotion_conditions(scope, shape), person_id.is_not(None))
        .group_by(person_id, label)
        .subquery()
    )
    ranked = sa_select(
        per_label,
        func.row_number()
        .over(
            partition_by=per_label.c.person_id,
            order_by=(per_label.c.count.desc(), per_label.c.label),
        )
        .label("rank"),
    ).subquery()
    return (
        sa_select(ranked.c.person_id, ranked.c.label, ranked.c.count, ranked.c.intensity_sum)
        .where(ranked.c.rank <= TOP_EMOTIONS)
        .order_by(ranked.c.person_id, ranked.c.rank)
    )


_TOP_EMOTIONS = OwnerStatement(_top_emotions)


def _top_emotions_per_person(
    session: Session, scope: OwnerScope, time_range: TimeRange
) -> dict[uuid.UUID, list[EmotionStat]]:
    found: dict[uuid.UUID, list[EmotionStat]] = {}
    for person, label, count, intensity_sum in execute(session, _TOP_EMOTIONS, scope, time_range):
        # Exactly avg(): a sum of integers, divided once (correctly rounded either way).
        found.setdefault(person, []).append(
            EmotionStat(label=label, count=count, mean_intensity=intensity_sum / count)
        )
    return found


# --- mood timeline ------------------------------------------------------------------------


def mood_timeline(
    session: Session, scope: OwnerScope, time_range: TimeRange, bucket: Bucket
) -> MoodTimeline:
    dialect = session.get_bind().dialect.name
    occurred_at = col(Entry.occurred_at)
    offsets = None
    if dialect == "sqlite":
        # The zone's offsets over the instants read, so that SQLite adds them in SQL
        # rather than calling Python for every entry (app/summaries/localtime.py).
        first, last = session.execute(
            sa_select(func.min(occurred_at), func.max(occurred_at)).where(
                *entry_conditions_in(scope, time_range)
            )
        ).one()
        if first is not None:
            offsets = localtime.offsets(scope.timezone, first, last)
    to_bucket = localtime.local_day if bucket is Bucket.day else localtime.local_week_start
    entries = scoped_entries(
        scope,
        time_range,
        to_bucket(occurred_at, scope.timezone, dialect, offsets).label("bucket"),
    ).cte("scoped_entries")
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
    rows = session.execute(
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
    return MoodTimeline(
        timezone=scope.timezone,
        bucket=bucket,
        points=[
            TimelinePoint(
                start=start,
                entries=count,
                mean_mood=mean,
                min_mood=low,
                max_mood=high,
                people_count=people_count,
            )
            for start, count, mean, low, high, people_count in rows
        ],
    )


# --- focus areas --------------------------------------------------------------------------


def _slope(n: int, sum_x: float, sum_y: float, sum_xx: float, sum_xy: float) -> float | None:
    """Least-squares slope of y on x; undefined with fewer than two distinct x."""
    denominator = n * sum_xx - sum_x * sum_x
    if n < 2 or denominator <= 1e-12 * max(1.0, n * sum_xx):
        return None
    return (n * sum_xy - sum_x * sum_y) / denominator


def focus_areas(session: Session, scope: OwnerScope, time_range: TimeRange) -> FocusAreaSummary:
    dialect = session.get_bind().dialect.name
    entries = (
        scoped_entries(
            scope,
            time_range,
            col(Entry.focus_area_id).label("focus_area_id"),
            col(Entry.occurred_at).label("occurred_at"),
            localtime.epoch_seconds(col(Entry.occurred_at), dialect).label("seconds"),
        )
        .where(col(Entry.focus_area_id).is_not(None))
        .cte("scoped_entries")
    )
    # Weeks since each area's first entry: small x keeps the sums well conditioned.
    origin = (
        sa_select(entries.c.focus_area_id, func.min(entries.c.seconds).label("first_seconds"))
        .group_by(entries.c.focus_area_id)
        .subquery()
    )
    weeks = (entries.c.seconds - origin.c.first_seconds) / float(localtime.SECONDS_PER_WEEK)
    mood = cast(entries.c.mood, Float)
    stats = (
        sa_select(
            entries.c.focus_area_id,
            func.count().label("n"),
            func.sum(mood).label("sum_y"),
            func.sum(weeks).label("sum_x"),
            func.sum(weeks * weeks).label("sum_xx"),
            func.sum(weeks * mood).label("sum_xy"),
            func.min(entries.c.occurred_at).label("first_at"),
            func.max(entries.c.occurred_at).label("last_at"),
        )
        .join(origin, origin.c.focus_area_id == entries.c.focus_area_id)
        .group_by(entries.c.focus_area_id)
        .subquery()
    )
    rows = session.execute(
        sa_select(
            col(FocusArea.id),
            col(FocusArea.title),
            col(FocusArea.problem_area),
            func.coalesce(stats.c.n, 0).label("n"),
            stats.c.sum_y,
            stats.c.sum_x,
            stats.c.sum_xx,
            stats.c.sum_xy,
            stats.c.first_at,
            stats.c.last_at,
        )
        .outerjoin(stats, stats.c.focus_area_id == col(FocusArea.id))
        .where(*scope.conditions(FocusArea))
        .order_by(col(FocusArea.created_at), col(FocusArea.id))
    )
    return FocusAreaSummary(
        focus_areas=[
            FocusAreaMood(
                focus_area_id=row.id,
                title=decrypt_column(
                    session, FocusArea, "title", scope.owner_id, row.id, row.title
                ),
                problem_area=row.problem_area,
                entries=row.n,
                mean_mood=_ratio(row.sum_y, row.n) if row.n else None,
                trend_per_week=(
                    _slope(row.n, row.sum_x, row.sum_y, row.sum_xx, row.sum_xy) if row.n else None
                ),
                first_at=row.first_at,
                last_at=row.last_at,
            )
            for row in rows
        ]
    )


# --- between sessions ---------------------------------------------------------------------


def _intervals(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None
) -> tuple[TimeRange, TimeRange | None]:
    """The interval ending at the session (default: open, after the latest session) and
    the interval before it, if there was one."""
    held_at = col(TherapySession.held_at)
    earlier = sa_select(held_at).where(*scope.conditions(TherapySession))
    if session_id is None:
        edges: list[datetime | None] = [None]
    else:
        end = scope.get(session, TherapySession, session_id, "session").held_at
        edges = [end]
        earlier = earlier.where(held_at < end)
    edges += session.execute(earlier.order_by(held_at.desc()).limit(2)).scalars().all()
    # edges: the interval's end, then up to two earlier sessions, newest first.
    interval = TimeRange(edges[1] if len(edges) > 1 else None, edges[0])
    before = TimeRange(edges[2] if len(edges) > 2 else None, edges[1]) if len(edges) > 1 else None
    return interval, before


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


def _lowest_in_interval(
    scope: OwnerScope, shape: Shape
) -> Select[uuid.UUID, datetime, int, EventType]:
    return (
        sa_select(col(Entry.id), col(Entry.occurred_at), col(Entry.mood), col(Entry.event_type))
        .where(*entry_conditions(scope, shape))
        .order_by(col(Entry.mood), col(Entry.occurred_at).desc(), col(Entry.id))
        .limit(LOWEST_MOOD_ENTRIES)
    )


_LOWEST_IN_INTERVAL = OwnerStatement(_lowest_in_interval)


def between_sessions(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None
) -> BetweenSessions:
    interval, before = _intervals(session, scope, session_id)
    occurred_at = col(Entry.occurred_at)
    mood = cast(col(Entry.mood), Float)
    within = and_(true(), *interval.conditions(occurred_at))
    mean_before: ColumnElement[Any] = cast(None, Float)
    if before is not None:
        mean_before = func.avg(case((and_(true(), *before.conditions(occurred_at)), mood)))
    span = TimeRange(before.start if before else interval.start, interval.end)
    entries_count, mean_mood, previous_mean = session.execute(
        sa_select(func.count(case((within, 1))), func.avg(case((within, mood))), mean_before).where(
            *entry_conditions_in(scope, span)
        )
    ).one()

    people_rows = execute(session, _PEOPLE_IN_INTERVAL, scope, interval)
    emotion_rows = execute(session, _EMOTIONS_IN_INTERVAL, scope, interval)
    lowest = execute(session, _LOWEST_IN_INTERVAL, scope, interval)
    measures = session.exec(
        scope.select(Measure)
        .where(*interval.conditions(col(Measure.completed_at)))
        .order_by(col(Measure.completed_at))
    )
    return BetweenSessions(
        session_id=session_id,
        from_=interval.start,
        to=interval.end,
        entries=entries_count,
        mean_mood=mean_mood,
        mean_mood_change=(
            mean_mood - previous_mean
            if mean_mood is not None and previous_mean is not None
            else None
        ),
        people=[
            PersonInInterval(
                person_id=pid,
                name=decrypt_column(session, Person, "name", scope.owner_id, pid, name),
                entries=n,
                mean_mood=mood_sum / n,
            )
            for pid, name, n, mood_sum in people_rows
        ],
        top_emotions=_emotion_stats(emotion_rows),
        lowest_mood_entries=[
            LowMoodEntry(id=eid, occurred_at=at, mood=m, event_type=kind)
            for eid, at, m, kind in lowest
        ],
        measures=[MeasureInInterval.model_validate(m, from_attributes=True) for m in measures],
    )
