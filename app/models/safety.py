"""Safety notices the API gave: a record a therapist can see, kept with what raised it."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, enum_column, new_id, utcnow


class SafetyReason(StrEnum):
    low_mood = "low_mood"
    phq9_item9 = "phq9_item9"
    epds_item10 = "epds_item10"


class SafetyEvent(SQLModel, table=True):
    """A safety notice given for an entry or a measure (exactly one of them), once per
    source and reason; deleted with its source."""

    __tablename__ = "safety_events"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["owner_id", "entry_id"], ["entries.owner_id", "entries.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["owner_id", "measure_id"], ["measures.owner_id", "measures.id"], ondelete="CASCADE"
        ),
        CheckConstraint("(entry_id IS NULL) <> (measure_id IS NULL)", name="one_source"),
        UniqueConstraint("owner_id", "entry_id", "reason"),
        UniqueConstraint("owner_id", "measure_id", "reason"),
        Index("ix_safety_events_owner_id_at_id", "owner_id", "at", "id"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reason: SafetyReason = Field(sa_type=enum_column(SafetyReason))
    entry_id: uuid.UUID | None = None
    measure_id: uuid.UUID | None = None
