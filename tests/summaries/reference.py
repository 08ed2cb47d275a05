"""An independent, plain-Python reference for the four summaries.

It works over the diary a test created (kept in the dataclasses below, never read back from
the database) and deliberately shares no code with `app.summaries`: means are exact
fractions, an entry's local date is the date of the time it was written with (the test
writes it with an offset from `zoneinfo`), the least-squares slope is computed exactly, and
the 95% intervals come from SciPy's tests on the raw values (`scipy.stats.ttest_ind`,
`scipy.stats.linregress`). `assert_same` compares an API response with a reference result,
floats with `pytest.approx(rel=1e-9, abs=1e-9)`, instants as instants with the same UTC
offset, and dates as dates.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from scipy import stats

TOP_EMOTIONS = 5
LOWEST_MOOD_ENTRIES = 3
SECONDS_PER_WEEK = 7 * 24 * 3600

# (highest total in the band, band), ascending; straight from DESIGN.md §2 "Measure".
BANDS = {
    "phq9": [
        (4, "minimal"),
        (9, "mild"),
        (14, "moderate"),
        (19, "moderately_severe"),
        (27, "severe"),
    ],
    "gad7": [(4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")],
}


def severity(instrument: str, total: int) -> str:
    return next(band for highest, band in BANDS[instrument] if total <= highest)


@dataclass
class Person:
    id: str
    name: str
    closeness: int
    archived: bool = False


@dataclass
class FocusArea:
    id: str
    title: str
    problem_area: str


@dataclass
class Emotion:
    label: str  # as the API stores it (lower case)
    intensity: int
    person_id: str | None = None


@dataclass
class Entry:
    id: str
    occurred_at: datetime  # aware, with the offset it was written with
    mood: int
    event_type: str = "other"
    people: list[tuple[str, int | None]] = field(default_factory=list)  # (person_id, quality)
    emotions: list[Emotion] = field(default_factory=list)
    focus_area_id: str | None = None
    private: bool = False

    def names(self, person_id: str) -> bool:
        return any(pid == person_id for pid, _ in self.people)


@dataclass
class Session:
    id: str
    held_at: datetime
    number: int


@dataclass
class Measure:
    id: str
    instrument: str
    answers: list[int]
    completed_at: datetime


@dataclass
class Diary:
    timezone: str = "UTC"
    people: list[Person] = field(default_factory=list)
    focus_areas: list[FocusArea] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)


def _in(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    """`start` inclusive, `end` exclusive; None is unbounded."""
    return (start is None or at >= start) and (end is None or at < end)


def _mean(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def _as_float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _top_emotions(emotions: list[Emotion]) -> list[dict[str, Any]]:
    by_label: dict[str, list[int]] = defaultdict(list)
    for emotion in emotions:
        by_label[emotion.label].append(emotion.intensity)
    ranked = sorted(by_label.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        {"label": label, "count": len(values), "mean_intensity": _as_float(_mean(values))}
        for label, values in ranked[:TOP_EMOTIONS]
    ]


# --- uncertainty --------------------------------------------------------------------------


def welch_interval(with_: list[int], without: list[int]) -> tuple[float, float] | None:
    """Welch's 95% interval for mean(with_) − mean(without), by SciPy's t test."""
    if len(with_) < 2 or len(without) < 2:
        return None
    difference = float(_mean(with_) - _mean(without))  # type: ignore[operator]
    if len(set(with_)) == 1 and len(set(without)) == 1:
        return (difference, difference)  # no spread at all: the difference is exact
    with warnings.catch_warnings():
        # SciPy warns when one side has (nearly) no spread; its interval is still right.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(with_, without, equal_var=False)
        low, high = result.confidence_interval(0.95)
    return (float(low), float(high))


def slope_interval(xs: list[float], ys: list[int]) -> tuple[float, float] | None:
    """The 95% interval of the least-squares slope, by SciPy's linear regression."""
    if len(xs) < 3 or len(set(xs)) < 2:
        return None
    fit = stats.linregress(xs, ys)
    half = stats.t.ppf(0.975, len(xs) - 2) * fit.stderr
    return (float(fit.slope - half), float(fit.slope + half))


def _close(interval: tuple[float, float] | None) -> Any:
    """SciPy's interval, compared to the API's with a tolerance for the t quantile's and the
    variance's floating point (the sums the API divides are exact)."""
    if interval is None:
        return None
    return [pytest.approx(bound, rel=1e-6, abs=1e-6) for bound in interval]


# --- mood by person -----------------------------------------------------------------------


def mood_by_person(
    diary: Diary, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    entries = [e for e in diary.entries if _in(e.occurred_at, start, end)]
    moods = [e.mood for e in entries]
    people = []
    for person in diary.people:
        named = [e for e in entries if e.names(person.id)]
        if person.archived and not named:
            continue
        others = [e.mood for e in entries if not e.names(person.id)]
        named_moods = [e.mood for e in named]
        mean = _mean([e.mood for e in named])
        without = _mean(others)
        qualities = [
            quality
            for e in named
            for pid, quality in e.people
            if pid == person.id and quality is not None
        ]
        emotions = [
            emotion
            for e in named
            for emotion in e.emotions
            if emotion.person_id is None or emotion.person_id == person.id
        ]
        people.append(
            {
                "person_id": person.id,
                "name": person.name,
                "closeness": person.closeness,
                "entries": len(named),
                "mean_mood": _as_float(mean),
                "mean_mood_without": _as_float(without),
                "delta": _as_float(mean - without)
                if mean is not None and without is not None
                else None,
                "delta_ci95": _close(welch_interval(named_moods, others)),
                "enough": len(named) >= 3 and len(others) >= 3,
                "mean_quality": _as_float(_mean(qualities)),
                "top_emotions": _top_emotions(emotions),
            }
        )
    people.sort(key=lambda p: (-p["entries"], p["person_id"]))
    return {
        "timezone": diary.timezone,
        "baseline": {"entries": len(entries), "mean_mood": _as_float(_mean(moods))},
        "people": people,
    }


# --- mood timeline ------------------------------------------------------------------------


def bucket_start(entry: Entry, bucket: str) -> date:
    """The entry's own local date (its time as written), or the Monday of its week."""
    day = entry.occurred_at.date()
    return day if bucket == "day" else day - timedelta(days=day.weekday())


def mood_timeline(
    diary: Diary, bucket: str, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    buckets: dict[date, list[Entry]] = defaultdict(list)
    for entry in diary.entries:
        if _in(entry.occurred_at, start, end):
            buckets[bucket_start(entry, bucket)].append(entry)
    points = []
    for first_day in sorted(buckets):
        members = buckets[first_day]
        moods = [e.mood for e in members]
        points.append(
            {
                "start": first_day,
                "entries": len(members),
                "mean_mood": _as_float(_mean(moods)),
                "min_mood": min(moods),
                "max_mood": max(moods),
                "people_count": len({pid for e in members for pid, _ in e.people}),
            }
        )
    return {"timezone": diary.timezone, "bucket": bucket, "points": points}


# --- focus areas --------------------------------------------------------------------------


def _weeks(points: list[tuple[datetime, int]]) -> list[Fraction]:
    """Time in weeks since the first point, exactly (in UTC: two times with the same zone
    would subtract as wall clocks, across a DST change too)."""
    instants = [at.astimezone(UTC) for at, _ in points]
    origin = min(instants)
    return [
        Fraction((at - origin) // timedelta(microseconds=1), SECONDS_PER_WEEK * 10**6)
        for at in instants
    ]


def least_squares_slope(points: list[tuple[datetime, int]]) -> float | None:
    """Exact slope of mood against time in weeks; None for < 2 points or a single instant."""
    if len(points) < 2:
        return None
    xs = _weeks(points)
    ys = [Fraction(mood) for _, mood in points]
    n = len(points)
    denominator = n * sum(x * x for x in xs) - sum(xs) ** 2
    if denominator == 0:
        return None
    numerator = n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sum(xs) * sum(ys)
    return float(numerator / denominator)


def focus_areas(
    diary: Diary, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Keyed by focus area id: the API does not promise an order."""
    result = {}
    for area in diary.focus_areas:
        members = [
            e
            for e in diary.entries
            if e.focus_area_id == area.id and _in(e.occurred_at, start, end)
        ]
        points = [(e.occurred_at, e.mood) for e in members]
        result[area.id] = {
            "focus_area_id": area.id,
            "title": area.title,
            "problem_area": area.problem_area,
            "entries": len(members),
            "mean_mood": _as_float(_mean([e.mood for e in members])),
            "trend_per_week": least_squares_slope(points),
            "trend_ci95": _close(
                slope_interval([float(x) for x in _weeks(points)], [m for _, m in points])
                if points
                else None
            ),
            "first_at": _utc(min((e.occurred_at for e in members), default=None)),
            "last_at": _utc(max((e.occurred_at for e in members), default=None)),
        }
    return result


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


# --- between sessions ---------------------------------------------------------------------


def _interval(
    diary: Diary, session_id: str | None
) -> tuple[datetime | None, datetime | None, tuple[datetime | None, datetime] | None]:
    """(from, to, interval before as (from, to) or None)."""
    held = sorted(s.held_at for s in diary.sessions)
    if session_id is None:
        if not held:
            return None, None, None
        end: datetime | None = None
        start: datetime | None = held[-1]
    else:
        end = next(s.held_at for s in diary.sessions if s.id == session_id)
        earlier = [h for h in held if h < end]
        start = earlier[-1] if earlier else None
    if start is None:
        return start, end, None
    before = [h for h in held if h < start]
    return start, end, (before[-1] if before else None, start)


def between_sessions(diary: Diary, session_id: str | None = None) -> dict[str, Any]:
    start, end, before = _interval(diary, session_id)
    entries = [e for e in diary.entries if _in(e.occurred_at, start, end)]
    mean = _mean([e.mood for e in entries])
    previous = (
        _mean([e.mood for e in diary.entries if _in(e.occurred_at, *before)])
        if before is not None
        else None
    )
    per_person: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        for pid, _ in entry.people:
            per_person[pid].append(entry.mood)
    people = sorted(
        (
            {
                "person_id": pid,
                "name": diary.person(pid).name,
                "entries": len(moods),
                "mean_mood": _as_float(_mean(moods)),
            }
            for pid, moods in per_person.items()
        ),
        key=lambda p: (-p["entries"], p["person_id"]),
    )
    # Stable sorts, least significant key first: id asc, then occurred_at desc, then mood asc.
    lowest = sorted(entries, key=lambda e: e.id)
    lowest.sort(key=lambda e: e.occurred_at.astimezone(UTC), reverse=True)  # instants
    lowest = sorted(lowest, key=lambda e: e.mood)[:LOWEST_MOOD_ENTRIES]
    measures = sorted(
        (m for m in diary.measures if _in(m.completed_at, start, end)),
        key=lambda m: m.completed_at,
    )
    return {
        "session_id": session_id,
        "from": start,
        "to": end,
        "entries": len(entries),
        "mean_mood": _as_float(mean),
        "mean_mood_change": _as_float(mean - previous)
        if mean is not None and previous is not None
        else None,
        "people": people,
        "top_emotions": _top_emotions([em for e in entries for em in e.emotions]),
        "lowest_mood_entries": [
            {"id": e.id, "occurred_at": e.occurred_at, "mood": e.mood, "event_type": e.event_type}
            for e in lowest
        ],
        "measures": [
            {
                "id": m.id,
                "instrument": m.instrument,
                "total": sum(m.answers),
                "severity": severity(m.instrument, sum(m.answers)),
                "completed_at": m.completed_at,
            }
            for m in measures
        ],
    }


# --- comparing ----------------------------------------------------------------------------


def differences(actual: Any, expected: Any, path: str = "response") -> list[str]:
    """Where the API's JSON differs from the reference, one line per difference."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            keys = sorted(actual) if isinstance(actual, dict) else actual
            return [f"{path}: keys {keys} != {sorted(expected)}"]
        return [d for k in expected for d in differences(actual[k], expected[k], f"{path}.{k}")]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in differences(a, e, f"{path}[{i}]")
        ]
    if isinstance(expected, datetime):
        parsed = datetime.fromisoformat(actual) if isinstance(actual, str) else None
        # As UTC instants: an aware time in a zone's fold (fold=1) never equals another zone's.
        same = (
            parsed is not None
            and parsed.astimezone(UTC) == expected.astimezone(UTC)
            and parsed.utcoffset() == expected.utcoffset()
        )
    elif isinstance(expected, date):
        same = isinstance(actual, str) and date.fromisoformat(actual) == expected
    elif isinstance(expected, float):
        same = (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and actual == pytest.approx(expected, rel=1e-9, abs=1e-9)
        )
    elif isinstance(expected, type(pytest.approx(0.0))):
        same = isinstance(actual, int | float) and not isinstance(actual, bool)
        same = same and actual == expected
    else:
        same = type(actual) is type(expected) and actual == expected
    return [] if same else [f"{path}: got {actual!r}, expected {expected!r}"]


def assert_same(actual: Any, expected: Any, what: str = "response") -> None:
    """Every difference between the API's JSON and the reference, listed at once."""
    found = differences(actual, expected, what)
    assert not found, "\n".join(found)
