import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.models.diary import EventType, ProblemArea
from app.models.therapy import Instrument


class Bucket(StrEnum):
    day = "day"
    week = "week"


class EmotionStat(BaseModel):
    label: str
    count: int = Field(description="How many times the emotion was logged")
    mean_intensity: float


class Baseline(BaseModel):
    entries: int
    mean_mood: float | None = Field(description="Mean mood over all entries in the range")


class PersonMood(BaseModel):
    person_id: uuid.UUID
    name: str
    closeness: int
    entries: int = Field(description="Entries that name this person")
    mean_mood: float | None = Field(description="Mean mood of the entries that name them")
    mean_mood_without: float | None = Field(
        description="Mean mood of the entries in the range that do not name them"
    )
    delta: float | None = Field(
        description="mean_mood − mean_mood_without: how much better (+) or worse (−) mood "
        "is when this person is involved"
    )
    delta_ci95: tuple[float, float] | None = Field(
        description="Welch's 95% interval for `delta` ([low, high]); null when either side "
        "has fewer than 2 entries. An interval that spans 0 does not tell better from worse"
    )
    enough: bool = Field(
        description="At least 3 entries name this person and at least 3 do not: fewer is "
        "too few to say anything about them"
    )
    mean_quality: float | None = Field(description="Mean rated quality of contact, −2…2")
    top_emotions: list[EmotionStat] = Field(
        description="Up to five most frequent emotions in entries naming them; an emotion "
        "about a specific person counts only for that person"
    )


class MoodByPerson(BaseModel):
    timezone: str = Field(description="The account's time zone")
    baseline: Baseline
    people: list[PersonMood] = Field(
        description="Every current person (archived ones only if named in the range), "
        "most often named first"
    )


class TimelinePoint(BaseModel):
    start: date = Field(
        description="The bucket's first local date (weeks start on Monday). Each entry counts "
        "on its own local date: the date on the clock it was written by"
    )
    entries: int
    mean_mood: float
    min_mood: int
    max_mood: int
    people_count: int = Field(description="Distinct people named in the bucket")


class MoodTimeline(BaseModel):
    timezone: str = Field(
        description="The account's time zone now; entries keep the local date they were "
        "written on, whatever zone the account moves to"
    )
    bucket: Bucket
    points: list[TimelinePoint] = Field(description="Buckets with at least one entry, in order")


class FocusAreaMood(BaseModel):
    focus_area_id: uuid.UUID
    title: str
    problem_area: ProblemArea
    entries: int
    mean_mood: float | None
    trend_per_week: float | None = Field(
        description="Least-squares slope of mood against time, in mood points per week; "
        "null with fewer than two entries at different times"
    )
    trend_ci95: tuple[float, float] | None = Field(
        description="The 95% interval of `trend_per_week` ([low, high]); null with fewer "
        "than three entries"
    )
    first_at: datetime | None
    last_at: datetime | None


class FocusAreaSummary(BaseModel):
    focus_areas: list[FocusAreaMood]


class PersonInInterval(BaseModel):
    person_id: uuid.UUID
    name: str
    entries: int
    mean_mood: float


class LowMoodEntry(BaseModel):
    """An entry to talk about; free text stays in the entry itself."""

    id: uuid.UUID
    occurred_at: datetime = Field(description="With the entry's own UTC offset")
    mood: int
    event_type: EventType


class MeasureInInterval(BaseModel):
    id: uuid.UUID
    instrument: Instrument
    total: int
    severity: str
    completed_at: datetime


class BetweenSessions(BaseModel):
    session_id: uuid.UUID | None = Field(
        description="The session the interval ends at; null for the open interval after "
        "the latest session"
    )
    from_: datetime | None = Field(
        alias="from", description="The previous session (null: the start of the diary)"
    )
    to: datetime | None = Field(description="The session (null: open-ended)")
    entries: int
    mean_mood: float | None
    mean_mood_change: float | None = Field(
        description="mean_mood minus the mean mood of the interval before; null when either "
        "is empty or there is no interval before"
    )
    people: list[PersonInInterval]
    top_emotions: list[EmotionStat]
    lowest_mood_entries: list[LowMoodEntry] = Field(description="Up to three, lowest mood first")
    measures: list[MeasureInInterval]

    model_config = {"populate_by_name": True}
