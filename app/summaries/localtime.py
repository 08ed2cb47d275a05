"""SQL for local calendar dates and epoch seconds, written once for both databases.

PostgreSQL converts with its own time-zone database (`timezone(zone, ts)`). SQLite has
none: it is given the zone's UTC offsets over the instants a summary reads (computed here
with zoneinfo, `offsets`) and adds the offset in effect to each instant, in SQL. Either way
the result is the wall-clock time in the zone, so DST changes fall on the right local day.
Without offsets (a diary spanning more changes than `MAX_OFFSET_CHANGES`) SQLite calls
`ipt_local_time(ts, zone)` (app.core.database.sqlite), which converts each row in Python.
"""

import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

SECONDS_PER_WEEK = 7 * 24 * 3600
# A CASE with one branch per change is evaluated for every row: beyond this many changes
# (or years, ~2 changes a year where clocks change), ipt_local_time costs less.
MAX_OFFSET_CHANGES = 64
MAX_OFFSET_YEARS = 40
# Offsets are sampled this far apart, then each change is found to the second. No time
# zone has changed its offset and back within six hours.
_SAMPLE = timedelta(hours=6)

Offsets = tuple[tuple[datetime, int], ...]


def _offset(zone: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@functools.lru_cache(maxsize=1024)
def _changes_in_year(zone_name: str, year: int) -> Offsets:
    """The instants of the UTC year at which the zone's offset changes, with the new
    offset in seconds (the time-zone database does not change while the process runs)."""
    zone = ZoneInfo(zone_name)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    changes = []
    at = datetime(year, 1, 1, tzinfo=UTC)
    offset = _offset(zone, at)
    while at < end:
        later = min(at + _SAMPLE, end)
        later_offset = _offset(zone, later)
        if later_offset != offset:
            # The offset is `offset` at `low` and `later_offset` at `high`: transitions
            # fall on whole seconds, so halve the interval down to one second.
            low, high = at, later
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            changes.append((high, later_offset))
            offset = later_offset
        at = later
    return tuple(changes)


def offsets(zone_name: str, first: datetime, last: datetime) -> Offsets | None:
    """The zone's UTC offset at `first`, then each change up to `last`: (from, seconds)
    pairs in time order. None beyond MAX_OFFSET_CHANGES changes or MAX_OFFSET_YEARS years,
    or for an unknown zone (ipt_local_time then stays in UTC, as it does)."""
    if last.year - first.year > MAX_OFFSET_YEARS:
        return None
    try:
        zone = ZoneInfo(zone_name)
        found = [(first, _offset(zone, first))]
    except (OverflowError, ValueError, KeyError):
        return None
    for year in range(first.year, last.year + 1):
        for at, offset in _changes_in_year(zone_name, year):
            if first < at <= last:
                found.append((at, offset))
                if len(found) > MAX_OFFSET_CHANGES + 1:
                    return None
    return tuple(found)


def _modifier(offset: int) -> ColumnElement[str]:
    return literal(f"{offset:+d} seconds")


def _sqlite_wall_clock(column: Any, offsets: Offsets) -> tuple[Any, ColumnElement[str]]:
    """The UTC time truncated to the second (as ipt_local_time does) and the date()
    modifier that adds the zone's offset in effect."""
    (_, offset), *changes = offsets
    modifier = _modifier(offset)
    if changes:
        whens = []
        for at, later_offset in changes:
            whens.append((column < at, _modifier(offset)))
            offset = later_offset
        modifier = case(*whens, else_=_modifier(offset))
    return func.substr(column, 1, 19), modifier


def local_day(
    column: Any, zone: str, dialect: str, offsets: Offsets | None = None
) -> ColumnElement[str]:
    """The local calendar date, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone, column), "YYYY-MM-DD")
    if offsets is not None:
        return func.date(*_sqlite_wall_clock(column, offsets))
    return func.substr(func.ipt_local_time(column, zone), 1, 10)


def local_week_start(
    column: Any, zone: str, dialect: str, offsets: Offsets | None = None
) -> ColumnElement[str]:
    """The local date of the Monday that starts the instant's week, as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone(zone, column)), "YYYY-MM-DD")
    # SQLite: step back six days, then forward to the next Monday (or stay on it).
    if offsets is not None:
        return func.date(*_sqlite_wall_clock(column, offsets), "-6 days", "weekday 1")
    return func.date(func.ipt_local_time(column, zone), "-6 days", "weekday 1")


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    # Whole seconds exactly, plus the milliseconds (julianday() would round to ~40 µs).
    whole = cast(func.strftime("%s", column), Float)
    fraction = cast(func.strftime("%f", column), Float) - cast(func.strftime("%S", column), Float)
    return whole + fraction
