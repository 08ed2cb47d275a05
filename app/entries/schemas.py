import uuid
from datetime import datetime
from typing import Annotated

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, Strict

from app.emotions.vocabulary import EmotionLabel
from app.models.base import WHOLE_NUMBER, Boolean, Integer, NonBlankText, Text
from app.models.diary import EntryBase, EventType, ShortText, UTCInstant
from app.safety.schemas import Safety

MAX_PEOPLE = 20
MAX_EMOTIONS = 20
CommunicationText = Annotated[Text | None, Field(default=None, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntryPersonIn(_Strict):
    person_id: uuid.UUID
    quality: Annotated[int, Interval(ge=-2, le=2), WHOLE_NUMBER, Strict()] | None = Field(
        default=None, description="How the contact went: -2 very bad … 2 very good"
    )


class EmotionIn(_Strict):
    label: EmotionLabel = Field(examples=["hurt"])
    intensity: Integer = Field(ge=0, le=10)
    person_id: uuid.UUID | None = Field(
        default=None, description="The person the feeling was about; one of the entry's people"
    )


class Communication(_Strict):
    """IPT communication analysis of the interaction."""

    what_i_said: CommunicationText
    what_they_said: CommunicationText
    what_i_felt: CommunicationText
    what_i_wanted: CommunicationText
    what_happened: CommunicationText
    what_i_could_try: CommunicationText


def emotion_people_problem(
    people: list[EntryPersonIn], emotions: list[EmotionIn]
) -> tuple[str, str] | None:
    seen: set[uuid.UUID] = set()
    for index, person in enumerate(people):
        if person.person_id in seen:
            return f"people.{index}.person_id", "names this person twice"
        seen.add(person.person_id)
    for index, emotion in enumerate(emotions):
        if emotion.person_id is not None and emotion.person_id not in seen:
            return f"emotions.{index}.person_id", "must be one of the entry's people"
    return None


class EntryCreate(EntryBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    id: uuid.UUID | None = Field(default=None, description="Optional client-generated id")
    people: list[EntryPersonIn] = Field(default_factory=list, max_length=MAX_PEOPLE)
    emotions: list[EmotionIn] = Field(default_factory=list, max_length=MAX_EMOTIONS)
    communication: Communication | None = None


class EntryUpdate(_Strict):
    """Only the fields sent change; `people` and `emotions` are replaced whole."""

    occurred_at: UTCInstant = None  # type: ignore[assignment]
    mood: Integer = Field(default=None, ge=0, le=10)  # type: ignore[assignment]
    event: NonBlankText = Field(default=None, min_length=1, max_length=4000)  # type: ignore[assignment]
    event_type: EventType = None  # type: ignore[assignment]
    focus_area_id: uuid.UUID | None = None
    private: Boolean = None  # type: ignore[assignment]
    tags: list[ShortText] = Field(default=None, max_length=20)  # type: ignore[arg-type]
    people: list[EntryPersonIn] = Field(default=None, max_length=MAX_PEOPLE)  # type: ignore[arg-type]
    emotions: list[EmotionIn] = Field(default=None, max_length=MAX_EMOTIONS)  # type: ignore[arg-type]
    communication: Communication | None = None


class EntryPersonPublic(BaseModel):
    person_id: uuid.UUID
    quality: int | None


class EmotionPublic(BaseModel):
    label: str
    intensity: int
    person_id: uuid.UUID | None
    custom: bool = Field(description="True when the label is not in the app's vocabulary")


class EntryPublic(EntryBase):
    id: uuid.UUID
    people: list[EntryPersonPublic]
    emotions: list[EmotionPublic]
    communication: Communication | None
    created_at: datetime
    updated_at: datetime
    version: int
    safety: Safety | None = Field(
        default=None,
        description="On the create/update response of an entry with mood ≤ 1: show its "
        "crisis resources at once",
    )
