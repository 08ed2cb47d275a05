import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app.measures.instruments import REGISTRY, answers_described, bands_described
from app.models.base import WHOLE_NUMBER
from app.models.diary import UTCInstant
from app.models.therapy import Answer, Instrument, MeasureBase
from app.safety.schemas import Safety

_ITEM_COUNTS = [spec.items for spec in REGISTRY.values()]
# The length and range every instrument allows; each instrument's own is checked by its
# registry entry (a 422 naming the answer).
Answers = Annotated[
    list[Answer | None],
    Field(
        min_length=min(_ITEM_COUNTS),
        max_length=max(_ITEM_COUNTS),
        description=f"Item scores in the form's order: {answers_described()}",
    ),
]


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
    answers: Answers


class MeasureUpdate(MeasureBase):
    """Only the fields sent change; total and severity are scored again."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    instrument: Instrument = None  # type: ignore[assignment]
    answers: Answers = None  # type: ignore[assignment]
    completed_at: UTCInstant = None  # type: ignore[assignment]


class MeasurePublic(MeasureBase):
    id: uuid.UUID
    total: int = Field(description="Sum of the answers, scored by the service")
    severity: str = Field(description=f"The total's band, lowest first: {bands_described()}")
    created_at: datetime
    updated_at: datetime
    version: int
    safety: Safety | None = Field(
        default=None,
        description="On the create/update response of a measure whose safety item (PHQ-9 "
        "item 9, EPDS item 10) is above 0",
    )


class Cadence(BaseModel):
    """Every n sessions held, every n days, or both (whichever comes first)."""

    model_config = ConfigDict(
        extra="forbid",
        # At least one of the two, stated where a client's generated code can see it.
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "integer"}}}
                for name in ("every_n_sessions", "every_n_days")
            ]
        },
    )

    every_n_sessions: Annotated[int, Interval(ge=1, le=52), WHOLE_NUMBER, Strict()] | None = None
    every_n_days: Annotated[int, Interval(ge=1, le=365), WHOLE_NUMBER, Strict()] | None = None

    @model_validator(mode="after")
    def _has_a_rule(self) -> "Cadence":
        if self.every_n_sessions is None and self.every_n_days is None:
            raise ValueError("give every_n_sessions, every_n_days or both")
        return self


Schedule = dict[Instrument, Cadence]
SCHEDULE_EXAMPLE = {"phq9": {"every_n_sessions": 4}, "wsas": {"every_n_days": 28}}


class DueReason(StrEnum):
    never_completed = "never_completed"
    sessions = "sessions"
    days = "days"


class DueMeasure(BaseModel):
    instrument: Instrument
    last_completed_at: datetime | None = Field(description="null: never completed")
    reason: DueReason = Field(
        description="`never_completed`; `sessions`: at least `every_n_sessions` sessions held "
        "since the last one; `days`: at least `every_n_days` days (in the account's time "
        "zone) since the last one"
    )
    sessions_since: int = Field(description="Sessions held since the last one (all if never)")
    days_since: int | None = Field(description="Days since the last one; null: never completed")


class DueMeasures(BaseModel):
    due: list[DueMeasure] = Field(description="In the registry's order of instruments")
