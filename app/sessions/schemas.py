import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from app.models.base import Integer, Text
from app.models.diary import UTCInstant
from app.models.therapy import Phase, TherapySessionBase


def phase_for(number: int) -> Phase:
    """IPT's usual course: sessions 1–4 initial, 5–12 middle, 13 on termination."""
    if number <= 4:
        return Phase.initial
    if number <= 12:
        return Phase.middle
    return Phase.termination


class TherapySessionCreate(TherapySessionBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"held_at": "2026-11-18T17:00:00+00:00", "number": 5}]},
    )  # type: ignore[assignment]

    id: uuid.UUID | None = Field(default=None, description="Optional client-generated id")


class TherapySessionUpdate(TherapySessionBase):
    """Only the fields sent change. Changing `number` alone does not change `phase`."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    held_at: UTCInstant = None  # type: ignore[assignment]
    number: Integer = Field(default=None, ge=1, le=100)  # type: ignore[assignment]
    notes: Text | None = Field(default=None, max_length=4000)


class TherapySessionPublic(TherapySessionBase):
    id: uuid.UUID
    phase: Phase
    created_at: datetime
    updated_at: datetime
    version: int
