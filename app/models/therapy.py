"""What happens in and around the therapy room: sessions held and symptom measures taken."""

import uuid
from enum import StrEnum
from typing import Annotated

from annotated_types import Interval
from pydantic import Strict
from sqlalchemy import JSON, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import (
    WHOLE_NUMBER,
    Ciphertext,
    Integer,
    Text,
    UTCDateTime,
    enum_column,
    new_id,
)
from app.models.diary import UTCInstant, Versioned


class Phase(StrEnum):
    initial = "initial"
    middle = "middle"
    termination = "termination"


class Instrument(StrEnum):
    phq9 = "phq9"
    gad7 = "gad7"
    epds = "epds"
    wsas = "wsas"


class TherapySessionBase(SQLModel):
    held_at: UTCInstant = Field(sa_type=UTCDateTime)
    number: Integer = Field(ge=1, le=100, description="Session number in the course of therapy")
    phase: Phase | None = Field(
        default=None,
        sa_type=enum_column(Phase),
        description="Defaults from the number: 1–4 initial, 5–12 middle, 13+ termination",
    )
    notes: Text | None = Field(default=None, max_length=4000, sa_type=Ciphertext)


class TherapySession(TherapySessionBase, Versioned, table=True):
    __tablename__ = "therapy_sessions"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        UniqueConstraint("owner_id", "number"),
        Index("ix_therapy_sessions_owner_id_held_at", "owner_id", "held_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    phase: Phase = Field(sa_type=enum_column(Phase))  # always set: defaulted by the service


# One item's score: 0 … 8 on the widest instrument (WSAS); each instrument's own range and
# which items may be null are checked against its entry in app.measures.instruments.
Answer = Annotated[int, Interval(ge=0, le=8), WHOLE_NUMBER, Strict()]


class MeasureBase(SQLModel):
    instrument: Instrument = Field(sa_type=enum_column(Instrument))
    answers: list[Answer | None] = Field(sa_type=JSON, description="Item scores, in order")
    completed_at: UTCInstant = Field(sa_type=UTCDateTime)


class Measure(MeasureBase, Versioned, table=True):
    __tablename__ = "measures"
    __table_args__ = (
        ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        Index("ix_measures_owner_id_completed_at", "owner_id", "completed_at"),
    )

    owner_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    total: int
    severity: str = Field(max_length=32)


class MeasureSchedule(SQLModel, table=True):
    """How often an instrument is due, as agreed in therapy: every n sessions held, every n
    days, or whichever comes first."""

    __tablename__ = "measure_schedules"
    __table_args__ = (ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    instrument: Instrument = Field(primary_key=True, sa_type=enum_column(Instrument))
    every_n_sessions: int | None = None
    every_n_days: int | None = None
