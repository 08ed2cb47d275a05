"""Reminders: when the client's devices remind them to write, note their mood or take a
measure. Every device schedules its own notifications from these rows (synced)."""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index
from sqlmodel import Field, SQLModel

from app.models.base import Boolean, CalendarDate, ClockTime, enum_column, new_id
from app.models.diary import Versioned

RRULE_MAX_LENGTH = 500


class ReminderKind(StrEnum):
    diary = "diary"
    mood = "mood"
    measure = "measure"


class ReminderBase(SQLModel):
    kind: ReminderKind = Field(sa_type=enum_column(ReminderKind))
    rrule: str = Field(
        max_length=RRULE_MAX_LENGTH,
        description="An RFC 5545 recurrence rule (the RRULE value), e.g. FREQ=WEEKLY;BYDAY=MO,TH",
    )
    local_time: ClockTime
    timezone: str = Field(max_length=64, description="IANA time zone of `local_time`")
    starts_on: CalendarDate | None = Field(
        default=None,
        description="The local date the recurrence starts from (RFC 5545 DTSTART's date); "
        "stored and answered as the first day on or after it that the rule occurs on. "
        "Default: today in `timezone`",
    )
    active: Boolean = Field(default=True, description="An inactive reminder reminds nobody")


class Reminder(ReminderBase, Versioned, table=True):
    __tablename__ = "reminders"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_reminders_owner_id_created_at", "owner_id", "created_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    starts_on: date  # always set, to a day the rule occurs on: by the service
