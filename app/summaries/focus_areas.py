"""Mood per focus area and its weekly trend, with the trend's 95% interval."""

from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from app.core.field_encryption import decrypt_column
from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import Entry, FocusArea
from app.summaries.schemas import FocusAreaMood, FocusAreaSummary
from app.summaries.statements import EpochSeconds, Shape, entry_conditions, execute, ratio
from app.summaries.statistics import slope, slope_interval

SECONDS_PER_WEEK = 7 * 24 * 3600


def _focus_areas(scope: OwnerScope, shape: Shape) -> Select[Any]:
    occurred_at = col(Entry.occurred_at)
    entries = (
        sa_select(
            col(Entry.mood),
            col(Entry.focus_area_id).label("focus_area_id"),
            occurred_at.label("occurred_at"),
            EpochSeconds(occurred_at).label("seconds"),
        )
        .where(*entry_conditions(scope, shape), col(Entry.focus_area_id).is_not(None))
        .cte("scoped_entries")
    )
    # Weeks since each area's first entry: small x keeps the sums well conditioned.
    origin = (
        sa_select(entries.c.focus_area_id, func.min(entries.c.seconds).label("first_seconds"))
        .group_by(entries.c.focus_area_id)
        .subquery()
    )
    weeks = (entries.c.seconds - origin.c.first_seconds) / float(SECONDS_PER_WEEK)
    mood = cast(entries.c.mood, Float)
    stats = (
        sa_select(
            entries.c.focus_area_id,
            func.count().label("n"),
            func.sum(mood).label("sum_y"),
            func.sum(mood * mood).label("sum_yy"),
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
    return (
        sa_select(
            col(FocusArea.id),
            col(FocusArea.title),
            col(FocusArea.problem_area),
            func.coalesce(stats.c.n, 0).label("n"),
            stats.c.sum_y,
            stats.c.sum_yy,
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


_FOCUS_AREAS = OwnerStatement(_focus_areas)


def focus_areas(session: Session, scope: OwnerScope, time_range: TimeRange) -> FocusAreaSummary:
    summaries = []
    for row in execute(session, _FOCUS_AREAS, scope, time_range):
        sums = (row.n, row.sum_x, row.sum_y, row.sum_xx, row.sum_xy)
        summaries.append(
            FocusAreaMood(
                focus_area_id=row.id,
                title=decrypt_column(
                    session, FocusArea, "title", scope.owner_id, row.id, row.title
                ),
                problem_area=row.problem_area,
                entries=row.n,
                mean_mood=ratio(row.sum_y, row.n),
                trend_per_week=slope(*sums) if row.n else None,
                trend_ci95=slope_interval(*sums, row.sum_yy) if row.n else None,
                first_at=row.first_at,
                last_at=row.last_at,
            )
        )
    return FocusAreaSummary(focus_areas=summaries)
