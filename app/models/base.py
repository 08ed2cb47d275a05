"""Shared column types and conventions for every table."""

import re
import uuid
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict, StringConstraints, WithJsonSchema
from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy import Enum as SAEnum
from sqlalchemy import Text as Text_
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

# PostgreSQL text cannot hold NUL, so no text field accepts it (422, never a 500).
# The patterns are part of the published schema, so clients can check before sending.
TEXT_PATTERN = r"^[^\x00]*$"
NONBLANK_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
NonBlankText = Annotated[str, StringConstraints(pattern=NONBLANK_TEXT_PATTERN)]


# Request fields are strict where pydantic's lax mode would guess (docs/architecture.md):
# an integer is a JSON number without a fraction (2 or, as JSON Schema has it, 2.0), never
# a boolean or a string; a boolean is true or false, not 0 or 1; a time or a date is an
# RFC 3339 string, never a number (lax mode reads 0 or "0.5" as a Unix timestamp). UUIDs,
# enums and times still come as JSON strings, so a model-wide strict mode (which refuses
# those) does not fit.
def _whole_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WHOLE_NUMBER = BeforeValidator(_whole_number)
# An optional integer puts its bounds before WHOLE_NUMBER (Annotated[int, Interval(…),
# WHOLE_NUMBER, Strict()] | None): bounds given on the field would miss the schema.
Integer = Annotated[int, WHOLE_NUMBER, Strict()]
Boolean = Annotated[bool, Strict()]
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise ValueError("must be an RFC 3339 string, not a number")
    return value


NOT_A_NUMBER = BeforeValidator(_not_a_number)
CalendarDate = Annotated[date, NOT_A_NUMBER]

CLOCK_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
_CLOCK_TIME = re.compile(CLOCK_TIME_PATTERN)


def _clock_time(value: Any) -> Any:
    # Lax time parsing would also take fractions and UTC offsets: a wall-clock time has neither.
    if isinstance(value, str) and not _CLOCK_TIME.fullmatch(value):
        raise ValueError('must be a time of day as "HH:MM" or "HH:MM:SS", e.g. "20:00"')
    return value


# A time of day on the wall clock of a zone given beside it (a reminder's).
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    NOT_A_NUMBER,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CLOCK_TIME_PATTERN,
            "examples": ["20:00"],
            "description": "A time of day, HH:MM or HH:MM:SS, on the wall clock of `timezone`",
        }
    ),
]

# Free text is stored encrypted (app.core.field_encryption): unbounded text in the database,
# while the API still bounds the plaintext.
Ciphertext = Text_

# Stable constraint names from the first migration on, so later ones can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite keeps them as sortable naive UTC text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database layer")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def enum_column(enum: type[StrEnum]) -> SAEnum:
    """A VARCHAR holding the enum's value (no database ENUM type to migrate)."""
    return SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()
