"""Reminders: when the client's devices remind them to write, note their mood or take a
measure (DESIGN §11). Synced like the diary, so every device shows the same schedule."""

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core import crud
from app.core.concurrency import check_if_match
from app.core.errors import Conflict, ValidationFailed
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope, lock_owner
from app.models.reminders import Reminder
from app.reminders import recurrence
from app.reminders.schemas import ReminderCreate, ReminderUpdate

# A schedule, not a diary: the cap also bounds the feed, a sync and an import's checks.
MAX_REMINDERS = 100
# What decides the days a reminder falls on.
_SCHEDULE = ("rrule", "starts_on", "local_time", "timezone")


def _first_day(rrule: str, starts_on: date, local_time: time, timezone: str) -> date:
    """The day the reminders start: the rule's first day on or after `starts_on`."""
    first = recurrence.first_day(rrule, starts_on, local_time, timezone)
    if first is None:
        raise ValidationFailed.for_field(
            "body.rrule",
            f"never occurs on or after {starts_on} at {local_time:%H:%M} in {timezone} "
            f"(within {recurrence.HORIZON_YEARS} years, and before any UNTIL or COUNT runs out)",
        )
    return first


def _check_room(session: Session, scope: OwnerScope) -> None:
    lock_owner(session, scope)
    count = session.exec(select(func.count()).where(*scope.conditions(Reminder))).one()
    if count >= MAX_REMINDERS:
        raise Conflict(f"At most {MAX_REMINDERS} reminders; delete one first")


def create(session: Session, scope: OwnerScope, data: ReminderCreate) -> Reminder:
    _check_room(session, scope)
    values = data.model_dump(exclude={"id"})
    starts_on = data.starts_on or datetime.now(ZoneInfo(data.timezone)).date()
    values["starts_on"] = _first_day(data.rrule, starts_on, data.local_time, data.timezone)
    reminder = scope.new_row(Reminder, values, data.id)
    return crud.insert(session, reminder, f"You already have a reminder with id {data.id}")


def get(session: Session, scope: OwnerScope, reminder_id: uuid.UUID) -> Reminder:
    return scope.get(session, Reminder, reminder_id, "reminder")


def page(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[Reminder], str | None]:
    return keyset_page(
        session,
        scope.select(Reminder),
        col(Reminder.created_at),
        col(Reminder.id),
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )


def update(
    session: Session,
    scope: OwnerScope,
    reminder_id: uuid.UUID,
    changes: ReminderUpdate,
    if_match: str | None,
) -> Reminder:
    reminder = get(session, scope, reminder_id)
    check_if_match(if_match, reminder)  # a stale write is a 412 before any other answer
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if values.keys() & set(_SCHEDULE):
        schedule = {name: values.get(name, getattr(reminder, name)) for name in _SCHEDULE}
        values["starts_on"] = _first_day(**schedule)
    return crud.update(session, reminder, if_match, values)


def delete(
    session: Session, scope: OwnerScope, reminder_id: uuid.UUID, if_match: str | None
) -> None:
    crud.delete(session, get(session, scope, reminder_id), if_match)
