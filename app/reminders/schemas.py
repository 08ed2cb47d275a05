import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from app.auth.schemas import TimeZoneName
from app.models.base import Boolean, CalendarDate, ClockTime
from app.models.reminders import RRULE_MAX_LENGTH, ReminderBase, ReminderKind
from app.reminders import recurrence

RecurrenceRule = Annotated[
    str,
    StringConstraints(min_length=1, max_length=RRULE_MAX_LENGTH),
    AfterValidator(recurrence.normalise),
    # The parser's rules, said where a schema can say them; the rest in the description.
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": RRULE_MAX_LENGTH,
            "pattern": "^[A-Za-z0-9=;,+-]+$",
            "examples": [recurrence.EXAMPLE, "FREQ=DAILY"],
            "description": "An RFC 5545 recurrence rule's value (no `RRULE:`), answered in "
            "upper case. FREQ is DAILY, WEEKLY, MONTHLY or YEARLY; no DTSTART, BYHOUR, "
            "BYMINUTE or BYSECOND (the time is `local_time`, the start `starts_on`); UNTIL in "
            "UTC (20261231T235959Z); a rule that never occurs is refused",
        }
    ),
]


def _supported_year(day: date) -> date:
    if not 1900 <= day.year <= 2199:
        raise ValueError("must be between 1900 and 2199")
    return day


StartDate = Annotated[
    CalendarDate,
    AfterValidator(_supported_year),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^(19|20|21)\d{2}-"}),
]
_STARTS_ON = (
    "The local date the reminders start from (RFC 5545 DTSTART's date), 1900–2199; stored and "
    "answered as the first day on or after it that the rule occurs on. Default: today in "
    "`timezone`"
)
_TIMEZONE = "IANA time zone of `local_time`"


class ReminderCreate(ReminderBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "diary",
                    "rrule": "FREQ=DAILY",
                    "local_time": "20:00",
                    "timezone": "Europe/London",
                }
            ]
        },
    )  # type: ignore[assignment]

    id: uuid.UUID | None = Field(default=None, description="Optional client-generated id")
    rrule: RecurrenceRule
    timezone: TimeZoneName = Field(description=_TIMEZONE)
    starts_on: StartDate | None = Field(default=None, description=_STARTS_ON)


class ReminderUpdate(ReminderBase):
    """Only the fields sent change; none may be set to null. A change to the rule, its time,
    zone or start moves `starts_on` to the rule's first day on or after the start."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    kind: ReminderKind = None  # type: ignore[assignment]
    rrule: RecurrenceRule = None  # type: ignore[assignment]
    local_time: ClockTime = None  # type: ignore[assignment]
    timezone: TimeZoneName = Field(default=None, description=_TIMEZONE)  # type: ignore[assignment]
    starts_on: StartDate = Field(default=None, description=_STARTS_ON)  # type: ignore[assignment]
    active: Boolean = None  # type: ignore[assignment]


class ReminderPublic(ReminderBase):
    id: uuid.UUID
    starts_on: date = Field(description="The first day the reminders fall on (DTSTART's date)")
    created_at: datetime
    updated_at: datetime
    version: int
