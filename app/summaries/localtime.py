"""SQL for local calendar dates and epoch seconds, written once for both databases.

PostgreSQL converts with its own time-zone database (`timezone(zone, ts)`); SQLite has
none, so the engine registers `ipt_local_time(ts, zone)` (app.core.db) backed by zoneinfo.
Both give the wall-clock time in the zone, so DST changes fall on the right local day.
"""

from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.sql.elements import ColumnElement

SECONDS_PER_WEEK = 7 * 24 * 3600


def local_day(column: Any, zone: str, dialect: str) -> ColumnElement[str]:
    """The local calendar date, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone, column), "YYYY-MM-DD")
    return func.substr(func.ipt_local_time(column, zone), 1, 10)


def local_week_start(column: Any, zone: str, dialect: str) -> ColumnElement[str]:
    """The local date of the Monday that starts the instant's week, as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone(zone, column)), "YYYY-MM-DD")
    # SQLite: step back six days, then forward to the next Monday (or stay on it).
    return func.date(func.ipt_local_time(column, zone), "-6 days", "weekday 1")


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    # Whole seconds exactly, plus the milliseconds (julianday() would round to ~40 µs).
    whole = cast(func.strftime("%s", column), Float)
    fraction = cast(func.strftime("%f", column), Float) - cast(func.strftime("%S", column), Float)
    return whole + fraction
