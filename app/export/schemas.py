"""The JSON export document, as `POST /v1/import` reads it back (format_version 1)."""

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import SQLModel

from app.auth.schemas import TimeZoneName
from app.core.errors import problem_responses
from app.entries.schemas import Communication, EmotionIn, EntryPersonIn
from app.measures.schemas import Answers
from app.models.diary import EntryBase, FocusAreaBase, PersonBase, UTCInstant
from app.models.reminders import ReminderBase
from app.models.therapy import MeasureBase, TherapySessionBase
from app.reminders.schemas import RecurrenceRule, StartDate
from app.reminders.service import MAX_REMINDERS


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    fhir = "fhir"


MEDIA_TYPES = {
    ExportFormat.json: "application/json",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.fhir: "application/fhir+json",
}
# The download's answers, as the client's and the therapist's export routes document them.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The download, streamed",
        "content": {
            MEDIA_TYPES[ExportFormat.json]: {
                "schema": {"$ref": "#/components/schemas/ExportDocument"}
            },
            MEDIA_TYPES[ExportFormat.csv]: {"schema": {"type": "string"}},
            MEDIA_TYPES[ExportFormat.fhir]: {
                "schema": {"type": "object", "description": "A FHIR R4 Bundle (collection)"}
            },
        },
    },
    **problem_responses(401, 403, 404, 422),
}


class _Imported(SQLModel):
    # Bookkeeping the export carries (version, owner, …) is not taken back.
    model_config = ConfigDict(extra="ignore")  # type: ignore[assignment]

    id: uuid.UUID
    created_at: UTCInstant | None = None
    updated_at: UTCInstant | None = None


class ImportedPerson(PersonBase, _Imported):
    archived_at: UTCInstant | None = None


class ImportedFocusArea(FocusAreaBase, _Imported):
    person_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class ImportedEmotion(EmotionIn):
    model_config = ConfigDict(extra="ignore")  # `custom` is worked out again


class ImportedEntry(EntryBase, _Imported):
    people: list[EntryPersonIn] = Field(default_factory=list, max_length=20)
    emotions: list[ImportedEmotion] = Field(default_factory=list, max_length=20)
    communication: Communication | None = None


class ImportedSession(TherapySessionBase, _Imported):
    pass


class ImportedMeasure(MeasureBase, _Imported):
    answers: Answers


class ImportedReminder(ReminderBase, _Imported):
    rrule: RecurrenceRule
    timezone: TimeZoneName
    starts_on: StartDate


class ExportDocument(BaseModel):
    """A JSON export. Ids are per account: importing into another account keeps them."""

    model_config = ConfigDict(extra="ignore")

    format_version: Literal[1, 2] = Field(
        description="2: each entry's `occurred_at` carries its own UTC offset; 1 (before "
        "entries kept their offset): times in UTC, entries take the account's time zone"
    )
    people: list[ImportedPerson] = Field(default_factory=list)
    focus_areas: list[ImportedFocusArea] = Field(default_factory=list)
    sessions: list[ImportedSession] = Field(default_factory=list)
    measures: list[ImportedMeasure] = Field(default_factory=list)
    reminders: list[ImportedReminder] = Field(default_factory=list, max_length=MAX_REMINDERS)
    entries: list[ImportedEntry] = Field(default_factory=list)


class ImportCounts(BaseModel):
    people: int
    focus_areas: int
    sessions: int
    measures: int
    reminders: int
    entries: int


class ImportResult(BaseModel):
    imported: ImportCounts = Field(description="Rows added")
    skipped: ImportCounts = Field(
        description="Rows already in the account (same id): importing twice adds nothing"
    )
