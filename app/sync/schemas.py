import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.entries.schemas import EntryPublic
from app.focus_areas.schemas import FocusAreaPublic
from app.measures.schemas import MeasurePublic, Schedule
from app.people.schemas import PersonPublic
from app.reminders.schemas import ReminderPublic
from app.safety.schemas import SafetyEventPublic
from app.sessions.schemas import TherapySessionPublic

EntityType = Literal[
    "entry", "person", "focus_area", "session", "measure", "safety_event", "reminder"
]


class Tombstone(BaseModel):
    type: EntityType
    id: uuid.UUID
    deleted_at: datetime


class SyncPage(BaseModel):
    """Everything that changed after `since`, each row once, in its latest state."""

    entries: list[EntryPublic]
    people: list[PersonPublic]
    focus_areas: list[FocusAreaPublic]
    sessions: list[TherapySessionPublic]
    measures: list[MeasurePublic]
    safety_events: list[SafetyEventPublic]
    reminders: list[ReminderPublic]
    measure_schedule: Schedule | None = Field(
        description="The whole measure schedule when it changed since `since` (`{}`: none "
        "scheduled any more); null when it did not"
    )
    deleted: list[Tombstone]
    next_anchor: str = Field(description="Pass as `since` next time (opaque)")
    has_more: bool = Field(description="True when another page is waiting: call again at once")
