"""The measure schedule agreed in therapy, and what it makes due now."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.core import change_log
from app.core.scoping import OwnerScope
from app.measures.instruments import REGISTRY
from app.measures.schemas import Cadence, DueMeasure, DueMeasures, DueReason, Schedule
from app.models.base import utcnow
from app.models.therapy import Measure, MeasureSchedule, TherapySession

SCHEDULE_TYPE = "measure_schedule"  # its change-log type: one per account, its id the owner's


def read(session: Session, scope: OwnerScope) -> Schedule:
    rows = session.exec(scope.select(MeasureSchedule)).all()
    by_instrument = {
        row.instrument: Cadence(
            every_n_sessions=row.every_n_sessions, every_n_days=row.every_n_days
        )
        for row in rows
    }
    return {code: by_instrument[code] for code in REGISTRY if code in by_instrument}


def replace(session: Session, scope: OwnerScope, schedule: Schedule) -> Schedule:
    """The whole schedule: an instrument left out is no longer scheduled. A change of the
    diary like any other: devices get it through sync, and kept answers (the brief's "due")
    are made again."""
    session.exec(delete(MeasureSchedule).where(*scope.conditions(MeasureSchedule)))
    change_log.record(session, [(scope.owner_id, SCHEDULE_TYPE, scope.owner_id, None)])
    session.add_all(
        MeasureSchedule(owner_id=scope.owner_id, instrument=instrument, **cadence.model_dump())
        for instrument, cadence in schedule.items()
    )
    session.flush()
    return read(session, scope)


def due(session: Session, scope: OwnerScope, now: datetime | None = None) -> DueMeasures:
    """Each scheduled instrument that is due at `now`: never completed, or as many sessions
    held or days gone (in the account's zone) since its latest completion as agreed."""
    now = now or utcnow()
    last = (
        sa_select(col(Measure.instrument), func.max(col(Measure.completed_at)).label("last"))
        .where(*scope.conditions(Measure))
        .group_by(col(Measure.instrument))
        .subquery()
    )
    held_since = (
        sa_select(func.count())
        .where(
            *scope.conditions(TherapySession),
            col(TherapySession.held_at) <= now,
            (last.c.last.is_(None)) | (col(TherapySession.held_at) > last.c.last),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        sa_select(
            col(MeasureSchedule.instrument),
            col(MeasureSchedule.every_n_sessions),
            col(MeasureSchedule.every_n_days),
            last.c.last,
            held_since,
        )
        .where(*scope.conditions(MeasureSchedule))
        .outerjoin(last, last.c.instrument == col(MeasureSchedule.instrument))
    ).all()
    zone = ZoneInfo(scope.timezone)
    today = now.astimezone(zone).date()
    found = {}
    for instrument, every_n_sessions, every_n_days, last_at, sessions_since in rows:
        days_since = None
        if last_at is not None:
            days_since = (today - last_at.astimezone(zone).date()).days
        reason = _reason(every_n_sessions, every_n_days, last_at, sessions_since, days_since)
        if reason is not None:
            found[instrument] = DueMeasure(
                instrument=instrument,
                last_completed_at=last_at,
                reason=reason,
                sessions_since=sessions_since,
                days_since=days_since,
            )
    return DueMeasures(due=[found[code] for code in REGISTRY if code in found])


def _reason(
    every_n_sessions: int | None,
    every_n_days: int | None,
    last_at: datetime | None,
    sessions_since: int,
    days_since: int | None,
) -> DueReason | None:
    if last_at is None:
        return DueReason.never_completed
    if every_n_sessions is not None and sessions_since >= every_n_sessions:
        return DueReason.sessions
    if every_n_days is not None and days_since is not None and days_since >= every_n_days:
        return DueReason.days
    return None
