"""What a session brief shows, as plain data: built from the summaries
(app/reports/brief.py), drawn by the charts and templates (app/reports/render.py).

Dates are local dates (each entry's own, or the account's zone for sessions and measures);
numbers are as the summaries compute them. Nothing here is free text a `summaries` share may
not see, except `lowest_entries`, which is None for such a share.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class SessionMark:
    """A therapy session: a numbered marker on the charts, an edge of an interval."""

    id: uuid.UUID
    number: int
    phase: str  # initial, middle, termination
    held_at: datetime
    day: date  # in the account's zone


@dataclass(frozen=True, slots=True)
class SafetyItem:
    """Something in the interval a therapist should see first."""

    reason: str  # a SafetyReason: low_mood, or a measure's safety item
    day: date
    detail: str  # "mood 0 of 10", "item 9 answered 2 of 3"


@dataclass(frozen=True, slots=True)
class FocusAreaLine:
    title: str
    problem_area: str  # grief | role_dispute | role_transition | interpersonal_deficits
    detail: str | None  # the dispute stage, or "from → to" of a role transition


@dataclass(frozen=True, slots=True)
class DayMood:
    """One local day with entries."""

    day: date
    entries: int
    mean: float
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class PersonComparison:
    """Mood with and without a person named in the interval."""

    name: str
    closeness: int
    entries: int
    mean_with: float | None
    mean_without: float | None
    delta: float | None
    delta_ci95: tuple[float, float] | None
    enough: bool  # False: "too few to say"


@dataclass(frozen=True, slots=True)
class MeasurePoint:
    instrument: str  # a code of the instrument registry (app.measures.instruments)
    day: date
    total: int
    severity: str
    safety_answer: int | None  # the safety item's answer; None: the instrument has none


@dataclass(frozen=True, slots=True)
class DueLine:
    """A measure due at the interval's end under the schedule agreed in therapy."""

    name: str  # PHQ-9
    reason: str  # never_completed | sessions | days
    last_day: date | None  # of the latest completion, in the account's zone
    sessions_since: int
    days_since: int | None


@dataclass(frozen=True, slots=True)
class CirclePerson:
    """A person of the interpersonal inventory, on its ring of the closeness circle."""

    name: str
    closeness: int  # 1 inner, 2 middle, 3 outer
    relationship: str
    deceased: bool
    entries: int  # entries in the interval that name them
    mean_quality: float | None  # of contact in the interval, −2…2; None: not named


@dataclass(frozen=True, slots=True)
class EmotionCount:
    label: str
    count: int
    mean_intensity: float


@dataclass(frozen=True, slots=True)
class LowEntry:
    """One of the interval's lowest-mood entries, with its text (the client, a full share)."""

    occurred_at: datetime  # on the entry's own clock
    mood: int
    event_type: str
    event: str
    people: tuple[str, ...]
    communication: tuple[tuple[str, str], ...]  # (question, answer) answered ones, in order


@dataclass(frozen=True, slots=True)
class IntervalLink:
    """Another interval of the same diary, to go to."""

    session_id: uuid.UUID | None  # None: the open interval after the latest session
    label: str  # "Before session 4 (12–19 Nov)", "Since session 7"


@dataclass(frozen=True, slots=True)
class Brief:
    client_name: str
    timezone: str
    generated_at: datetime
    # The interval: from the previous session (None: the diary's start) to this session
    # (None: open, up to now).
    session: SessionMark | None
    previous: SessionMark | None
    first_day: date | None
    last_day: date  # the interval's last local day (today for the open interval)
    focus_areas: tuple[FocusAreaLine, ...]
    safety: tuple[SafetyItem, ...]
    entries: int
    mean_mood: float | None
    mean_mood_change: float | None
    # Mood over time: a window of at least 8 weeks ending with the interval.
    window_first_day: date
    days: tuple[DayMood, ...]
    sessions: tuple[SessionMark, ...]  # those in the window
    people: tuple[PersonComparison, ...]  # named in the interval, most often first
    measures: tuple[MeasurePoint, ...]  # every instrument's, up to the interval's end
    due: tuple[DueLine, ...] | None  # None: no measure is scheduled
    circle: tuple[CirclePerson, ...]
    emotions: tuple[EmotionCount, ...]  # the interval's most frequent
    lowest_entries: tuple[LowEntry, ...] | None  # None: a `summaries` share sees no text
    intervals: tuple[IntervalLink, ...]  # every interval of the diary, latest first
