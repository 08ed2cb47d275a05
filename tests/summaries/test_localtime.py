"""SQLite's local dates from precomputed UTC offsets agree with zoneinfo, to the instant.

The summaries give SQLite the zone's offsets over the instants they read and let it add
them in SQL (app/summaries/localtime.py). Here every such date is checked against Python's
own conversion, at instants drawn on both sides of offset changes (to the microsecond),
in zones with half-hour, 45-minute and double changes, and against ipt_local_time.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, MetaData, Table, create_engine, insert, select

from app.core.database.sqlite import local_time
from app.models.base import UTCDateTime
from app.summaries import localtime

ZONES = [
    "Europe/London",
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "Australia/Lord_Howe",  # changes by half an hour
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kathmandu",  # +05:45, changed once in 1986
    "Africa/Casablanca",  # clocks go back for Ramadan: two extra changes a year
    "Antarctica/Troll",  # +00 / +02
    "Asia/Kolkata",
    "UTC",
]
metadata = MetaData()
instants = Table("instants", metadata, Column("at", UTCDateTime))


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def changes(zone: str, year: int) -> list[datetime]:
    return [at for at, _ in localtime._changes_in_year(zone, year)]


@st.composite
def near_changes(draw: st.DrawFn) -> tuple[str, list[datetime]]:
    """A zone and instants around its offset changes of a few years (or anywhere, for a
    zone without changes then)."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(1975, 2045))
    around = changes(zone, year) + changes(zone, year + 1) or [datetime(year, 6, 1, tzinfo=UTC)]
    offsets = st.one_of(
        st.integers(-3, 3).map(lambda seconds: timedelta(seconds=seconds)),
        st.integers(-2_000_000, 2_000_000).map(lambda us: timedelta(microseconds=us)),
        st.integers(-40 * 86400, 40 * 86400).map(lambda seconds: timedelta(seconds=seconds)),
    )
    at = st.builds(lambda anchor, offset: anchor + offset, st.sampled_from(around), offsets)
    return zone, draw(st.lists(at, min_size=1, max_size=30))


@settings(max_examples=300, deadline=None)
@given(near_changes())
def test_sqlite_local_dates_agree_with_zoneinfo(
    engine: Engine, case: tuple[str, list[datetime]]
) -> None:
    zone, ats = case
    found = localtime.offsets(zone, min(ats), max(ats))
    assert found is not None
    column = instants.c.at
    day = localtime.local_day(column, zone, "sqlite", found)
    week = localtime.local_week_start(column, zone, "sqlite", found)
    with engine.begin() as connection:
        connection.execute(instants.delete())
        connection.execute(insert(instants), [{"at": at} for at in ats])
        rows = connection.execute(select(column, day, week)).all()
    for at, local_day, week_start in rows:
        expected = at.astimezone(ZoneInfo(zone)).date()
        assert date.fromisoformat(local_day) == expected, (zone, at)
        assert date.fromisoformat(week_start) == expected - timedelta(days=expected.weekday())
        stored = at.replace(tzinfo=None).isoformat(" ", "microseconds")
        assert local_day == (local_time(stored, zone) or "")[:10]


def test_offsets_list_each_change_in_the_span() -> None:
    found = localtime.offsets(
        "Europe/London", datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    assert found == (
        (datetime(2025, 6, 1, tzinfo=UTC), 3600),
        (datetime(2025, 10, 26, 1, 0, tzinfo=UTC), 0),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 3600),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 0),
    )


def test_too_many_changes_fall_back_to_the_python_function() -> None:
    first, last = datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    assert localtime.offsets("Europe/London", first, last) is None  # 80 changes
    assert localtime.offsets("Asia/Kolkata", first, last) is not None  # none
    assert localtime.offsets("Not/A_Zone", first, last) is None
    assert localtime.offsets("UTC", datetime(1900, 1, 1, tzinfo=UTC), last) is None  # years
