import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from app.models.diary import UTCInstant
from app.models.therapy import Answer, Instrument, MeasureBase
from app.safety.schemas import Safety

Answers = list[Answer]


class MeasureCreate(MeasureBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "instrument": "phq9",
                    "answers": [1, 2, 1, 0, 1, 1, 0, 1, 0],
                    "completed_at": "2026-11-20T09:00:00+00:00",
                }
            ]
        },
    )  # type: ignore[assignment]

    id: uuid.UUID | None = Field(default=None, description="Optional client-generated id")
    answers: Answers = Field(
        min_length=7, max_length=9, description="PHQ-9: 9 answers, GAD-7: 7; each 0–3"
    )


class MeasureUpdate(MeasureBase):
    """Only the fields sent change; total and severity are scored again."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    instrument: Instrument = None  # type: ignore[assignment]
    answers: Answers = Field(default=None, min_length=7, max_length=9)  # type: ignore[arg-type]
    completed_at: UTCInstant = None  # type: ignore[assignment]


class MeasurePublic(MeasureBase):
    id: uuid.UUID
    total: int = Field(description="Sum of the answers, scored by the service")
    severity: str = Field(
        description="PHQ-9: minimal, mild, moderate, moderately_severe, severe; "
        "GAD-7: minimal, mild, moderate, severe"
    )
    created_at: datetime
    updated_at: datetime
    version: int
    safety: Safety | None = Field(
        default=None, description="On the create/update response of a PHQ-9 with item 9 > 0"
    )
