import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from app.models.base import CalendarDate, NonBlankText
from app.models.diary import DisputeStage, FocusAreaBase, FocusStatus, GoalText, ProblemArea

PersonIds = list[uuid.UUID]


def problem_area_mismatch(
    problem_area: ProblemArea,
    dispute_stage: DisputeStage | None,
    from_role: str | None,
    to_role: str | None,
) -> tuple[str, str] | None:
    """The first field that does not belong to the problem area, with the reason."""
    if dispute_stage is not None and problem_area is not ProblemArea.role_dispute:
        return "dispute_stage", "only a role_dispute focus area has a dispute stage"
    for name, value in (("from_role", from_role), ("to_role", to_role)):
        if value is not None and problem_area is not ProblemArea.role_transition:
            return name, "only a role_transition focus area has from_role and to_role"
    return None


class FocusAreaCreate(FocusAreaBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    id: uuid.UUID | None = Field(default=None, description="Optional client-generated id")
    person_ids: PersonIds = Field(default_factory=list, max_length=20)


class FocusAreaUpdate(FocusAreaBase):
    """Only the fields sent change. Required fields may be omitted but not set to null."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    problem_area: ProblemArea = None  # type: ignore[assignment]
    title: NonBlankText = Field(default=None, min_length=1, max_length=120)  # type: ignore[assignment]
    goals: list[GoalText] = Field(default=None, max_length=10)  # type: ignore[arg-type]
    agreed_on: CalendarDate | None = None
    status: FocusStatus = None  # type: ignore[assignment]
    person_ids: PersonIds = Field(default=None, max_length=20)  # type: ignore[arg-type]


class FocusAreaPublic(FocusAreaBase):
    id: uuid.UUID
    person_ids: PersonIds
    created_at: datetime
    updated_at: datetime
    version: int
