import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from app.models.base import Boolean, Integer, NonBlankText
from app.models.diary import PersonBase, Relationship


class PersonCreate(PersonBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    id: uuid.UUID | None = Field(
        default=None, description="Optional client-generated id (offline creation)"
    )


class PersonUpdate(PersonBase):
    """Only the fields sent change. Required fields may be omitted but not set to null."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    # A None default is not validated, while an explicit null is: that refuses nulls here.
    name: NonBlankText = Field(default=None, min_length=1, max_length=80)  # type: ignore[assignment]
    relationship: Relationship = None  # type: ignore[assignment]
    closeness: Integer = Field(default=None, ge=1, le=3)  # type: ignore[assignment]
    deceased: Boolean = None  # type: ignore[assignment]


class PersonPublic(PersonBase):
    id: uuid.UUID
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
