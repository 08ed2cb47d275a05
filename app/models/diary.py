"""The client's diary: people, focus areas and entries.

Every table's key starts with `owner_id`, and every reference between diary rows is a
composite foreign key that includes it, so the database itself refuses a row of one client
that points at another client's person or focus area.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, AwareDatetime, Strict, StringConstraints, WithJsonSchema
from sqlalchemy import JSON, ForeignKeyConstraint, Index, SmallInteger
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.base import (
    NONBLANK_TEXT_PATTERN,
    NOT_A_NUMBER,
    WHOLE_NUMBER,
    Boolean,
    CalendarDate,
    Ciphertext,
    Integer,
    NonBlankText,
    Text,
    UTCDateTime,
    enum_column,
    new_id,
    utcnow,
)

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 1900 and 2199")
    return value.astimezone(UTC)


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 1900 and 2199")
    offset = value.utcoffset() or timedelta()
    if offset % timedelta(minutes=1):
        raise ValueError("the UTC offset must be whole minutes")
    return value


# What the schema says of every instant, so a generated client can check it before sending.
_INSTANT_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "format": "date-time",
        "pattern": r"^(19|20|21)\d{2}-",
        # Not a standard keyword, but said where a reader and tools (ajv-formats) find it;
        # the description says it too, unless the field has its own.
        "formatMinimum": "1900-01-01T00:00:00Z",
        "formatExclusiveMaximum": "2200-01-01T00:00:00Z",
        "description": "RFC 3339 with a UTC offset, from 1900 to 2199",
    }
)
# Instants are accepted with any offset (a naive time is refused) and answered in UTC.
UTCInstant = Annotated[AwareDatetime, NOT_A_NUMBER, AfterValidator(_to_utc), _INSTANT_SCHEMA]
# When an entry happened, with the UTC offset of the clock it was written by: kept, so the
# entry keeps its own local day wherever its author goes next.
LocalInstant = Annotated[AwareDatetime, NOT_A_NUMBER, AfterValidator(_in_range), _INSTANT_SCHEMA]


def wall_clock(occurred_at: datetime) -> dict[str, Any]:
    """The columns an entry keeps of its time's offset: the offset in whole minutes (an
    offset with seconds, of local mean time before 1900-era time zones, is rounded), and
    the local date the summaries bucket by."""
    minutes = round((occurred_at.utcoffset() or timedelta()) / timedelta(minutes=1))
    local = occurred_at.astimezone(UTC) + timedelta(minutes=minutes)
    return {"occurred_at_offset_minutes": minutes, "local_date": local.date()}


ShortText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=NONBLANK_TEXT_PATTERN
    ),
]
GoalText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=500, pattern=NONBLANK_TEXT_PATTERN
    ),
]


class Relationship(StrEnum):
    partner = "partner"
    ex_partner = "ex_partner"
    parent = "parent"
    child = "child"
    sibling = "sibling"
    grandparent = "grandparent"
    other_family = "other_family"
    friend = "friend"
    colleague = "colleague"
    manager = "manager"
    neighbour = "neighbour"
    carer = "carer"
    health_professional = "health_professional"
    other = "other"


class ProblemArea(StrEnum):
    grief = "grief"
    role_dispute = "role_dispute"
    role_transition = "role_transition"
    interpersonal_deficits = "interpersonal_deficits"


class FocusStatus(StrEnum):
    active = "active"
    resolved = "resolved"


class DisputeStage(StrEnum):
    renegotiation = "renegotiation"
    impasse = "impasse"
    dissolution = "dissolution"


class EventType(StrEnum):
    conversation = "conversation"
    conflict = "conflict"
    support_received = "support_received"
    support_given = "support_given"
    loss_reminder = "loss_reminder"
    life_change = "life_change"
    isolation = "isolation"
    social_activity = "social_activity"
    other = "other"


def _owned_by_user() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE")


class Versioned(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)

    # SQLAlchemy adds "AND version = :seen" to every UPDATE and bumps it, so two writers
    # that both passed the If-Match check cannot both win.
    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a declared_attr takes cls
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


# --- people -------------------------------------------------------------------------------


class PersonBase(SQLModel):
    name: NonBlankText = Field(
        min_length=1, max_length=80, sa_type=Ciphertext, description="A name or alias"
    )
    relationship: Relationship = Field(sa_type=enum_column(Relationship))
    closeness: Integer = Field(
        ge=1, le=3, description="Closeness circle: 1 inner, 2 middle, 3 outer"
    )
    deceased: Boolean = False
    satisfaction: Annotated[int, Interval(ge=0, le=10), WHOLE_NUMBER, Strict()] | None = None
    notes: Text | None = Field(default=None, max_length=2000, sa_type=Ciphertext)


class Person(PersonBase, Versioned, table=True):
    __tablename__ = "people"
    __table_args__ = (_owned_by_user(),)

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- focus areas --------------------------------------------------------------------------


class FocusAreaBase(SQLModel):
    problem_area: ProblemArea = Field(sa_type=enum_column(ProblemArea))
    title: NonBlankText = Field(min_length=1, max_length=120, sa_type=Ciphertext)
    description: Text | None = Field(default=None, max_length=2000, sa_type=Ciphertext)
    goals: list[GoalText] = Field(default_factory=list, max_length=10, sa_type=JSON)
    agreed_on: CalendarDate | None = None
    status: FocusStatus = Field(default=FocusStatus.active, sa_type=enum_column(FocusStatus))
    dispute_stage: DisputeStage | None = Field(default=None, sa_type=enum_column(DisputeStage))
    from_role: Text | None = Field(default=None, max_length=120, sa_type=Ciphertext)
    to_role: Text | None = Field(default=None, max_length=120, sa_type=Ciphertext)


class FocusArea(FocusAreaBase, Versioned, table=True):
    __tablename__ = "focus_areas"
    __table_args__ = (
        _owned_by_user(),
        Index("ix_focus_areas_owner_id_status", "owner_id", "status"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)


class FocusAreaPerson(SQLModel, table=True):
    __tablename__ = "focus_area_people"
    __table_args__ = (
        ForeignKeyConstraint(
            ["owner_id", "focus_area_id"],
            ["focus_areas.owner_id", "focus_areas.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["owner_id", "person_id"], ["people.owner_id", "people.id"], ondelete="CASCADE"
        ),
        Index("ix_focus_area_people_owner_id_person_id", "owner_id", "person_id"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    focus_area_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)


# --- entries ------------------------------------------------------------------------------


class EntryBase(SQLModel):
    occurred_at: LocalInstant = Field(
        sa_type=UTCDateTime,
        description="When it happened, with the offset of the writer's clock (kept and answered)",
    )
    mood: Integer = Field(ge=0, le=10, description="0 = worst, 10 = best")
    event: NonBlankText = Field(
        min_length=1, max_length=4000, sa_type=Ciphertext, description="What happened"
    )
    event_type: EventType = Field(default=EventType.other, sa_type=enum_column(EventType))
    focus_area_id: uuid.UUID | None = None
    private: Boolean = Field(default=False, description="Never shown to a therapist")
    tags: list[ShortText] = Field(default_factory=list, max_length=20, sa_type=JSON)


class Entry(EntryBase, Versioned, table=True):
    __tablename__ = "entries"
    __table_args__ = (
        _owned_by_user(),
        ForeignKeyConstraint(
            ["owner_id", "focus_area_id"], ["focus_areas.owner_id", "focus_areas.id"]
        ),
        Index("ix_entries_owner_id_focus_area_id", "owner_id", "focus_area_id"),
        # Keyset pages and time ranges; it also covers what the summaries read of an entry.
        Index(
            "ix_entries_owner_id_occurred_at_id_mood_private_local_date",
            "owner_id",
            "occurred_at",
            "id",
            "mood",
            "private",
            "local_date",
        ),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    communication: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # `occurred_at` is stored in UTC; these keep its own clock (`wall_clock`).
    occurred_at_offset_minutes: int = Field(sa_type=SmallInteger)
    local_date: date


class EntryPerson(SQLModel, table=True):
    __tablename__ = "entry_people"
    __table_args__ = (
        ForeignKeyConstraint(
            ["owner_id", "entry_id"], ["entries.owner_id", "entries.id"], ondelete="CASCADE"
        ),
        # No cascade: a person named in entries is archived, never deleted.
        ForeignKeyConstraint(["owner_id", "person_id"], ["people.owner_id", "people.id"]),
        Index("ix_entry_people_owner_id_person_id", "owner_id", "person_id"),
        # Covers what the summaries read of an entry's people (app/summaries/).
        Index(
            "ix_entry_people_owner_id_entry_id_person_id_quality",
            "owner_id",
            "entry_id",
            "person_id",
            "quality",
        ),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    entry_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)
    quality: int | None = None


class EntryEmotion(SQLModel, table=True):
    __tablename__ = "entry_emotions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["owner_id", "entry_id"], ["entries.owner_id", "entries.id"], ondelete="CASCADE"
        ),
        # An emotion's person must be one of its entry's people.
        ForeignKeyConstraint(
            ["owner_id", "entry_id", "person_id"],
            ["entry_people.owner_id", "entry_people.entry_id", "entry_people.person_id"],
            ondelete="CASCADE",
        ),
        Index("ix_entry_emotions_owner_id_label", "owner_id", "label"),
        # Covers what the summaries read of an entry's emotions (app/summaries/).
        Index(
            "ix_entry_emotions_owner_id_entry_id_person_id_label_intensity",
            "owner_id",
            "entry_id",
            "person_id",
            "label",
            "intensity",
        ),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    entry_id: uuid.UUID = Field(primary_key=True)
    position: int = Field(primary_key=True)
    label: str = Field(max_length=40)
    intensity: int
    person_id: uuid.UUID | None = None
    custom: bool = False
