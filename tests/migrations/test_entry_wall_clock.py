"""Migration 0009: entries written before they kept their own clock take the account's zone
at their instant, on both databases, as Python's `zoneinfo` says (the offset rounded to
whole minutes: only local mean time, before standard zones, had seconds in it).

Hypothesis draws accounts in zones with odd offsets and entries at instants around their
clock changes, at local midnights and across the whole range an entry may have (1900 to
2199); each example migrates a copy of a database left at 0008, then reads every entry
through the API.
"""

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.crypto import KeyRing
from app.core.field_encryption import encrypt_value
from app.core.security import create_access_token
from app.main import create_app
from app.models.account import Role, User
from app.models.base import UTCDateTime
from app.models.diary import Entry
from tests.conftest import (
    POSTGRES_ADMIN_DSN,
    alembic_config,
    create_postgres_database,
    drop_postgres_database,
    make_settings,
)

ZONES = [
    "Europe/London",
    "Europe/Amsterdam",  # +00:19:32 until 1937
    "America/St_Johns",  # −03:30, and −02:30 in summer
    "Asia/Kolkata",  # +05:21:10 (Madras time) until 1906
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "Australia/Lord_Howe",  # half-hour daylight saving
    "UTC",
]
users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("role", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("timezone", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("change_seq", sa.BigInteger()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
login_sessions = sa.table(
    "login_sessions",
    sa.column("owner_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("created_at", UTCDateTime()),
)
entries = sa.table(
    "entries",
    *(sa.column(name, sa.Uuid()) for name in ("owner_id", "id")),
    *(sa.column(name, UTCDateTime()) for name in ("occurred_at", "created_at", "updated_at")),
    sa.column("version", sa.Integer()),
    sa.column("mood", sa.Integer()),
    sa.column("event", sa.String()),
    sa.column("event_type", sa.String()),
    sa.column("private", sa.Boolean()),
    sa.column("tags", sa.JSON()),
)

clock_changes = st.sampled_from(
    [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London and Amsterdam spring forward
        datetime(2026, 3, 8, 5, 30, tzinfo=UTC),  # St John's springs forward
        datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe falls back half an hour
        datetime(2026, 9, 26, 14, 0, tzinfo=UTC),  # Chatham springs forward
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # London falls back
        datetime(1937, 7, 1, 0, 0, tzinfo=UTC),  # Amsterdam leaves +00:19:32
        datetime(1906, 1, 1, 0, 0, tzinfo=UTC),  # Madras time ends
    ]
)
near = st.integers(-2 * 86400, 2 * 86400).map(lambda seconds: timedelta(seconds=seconds))
instants = st.one_of(
    st.builds(lambda at, offset: at + offset, clock_changes, near),
    st.datetimes(datetime(1900, 1, 2), datetime(2199, 12, 30), timezones=st.just(UTC)),
)
accounts = st.lists(
    st.tuples(st.sampled_from(ZONES), st.lists(instants, min_size=1, max_size=6)),
    min_size=1,
    max_size=4,
)


def expected_clock(instant: datetime, zone: str) -> datetime:
    """The instant on the clock of the zone's offset then, in whole minutes."""
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()
    minutes = round(offset / timedelta(minutes=1))
    return instant.astimezone(timezone(timedelta(minutes=minutes)))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_at_0008(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], tuple[str, Callable[[], None]]]]:
    """A factory of databases left at revision 0008 (copies of one template), each with its
    clean-up."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("template") / "diary.db"
        command.upgrade(alembic_config(f"sqlite:///{template}"), "0008")

        def copy() -> tuple[str, Callable[[], None]]:
            target = tmp_path_factory.mktemp("copy") / "diary.db"
            shutil.copy(template, target)
            return f"sqlite:///{target}", lambda: None

        yield copy
        return
    url, name = create_postgres_database()
    command.upgrade(alembic_config(url), "0008")
    sa.create_engine(url).dispose()

    def clone() -> tuple[str, Callable[[], None]]:
        copy_name = f"{name}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"')
        return url.rsplit("/", 1)[0] + f"/{copy_name}", lambda: drop_postgres_database(copy_name)

    yield clone
    drop_postgres_database(name)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(diaries=accounts)
def test_existing_entries_take_the_accounts_zone_at_their_instant(
    database_at_0008: Callable[[], tuple[str, Callable[[], None]]],
    diaries: list[tuple[str, list[datetime]]],
) -> None:
    url, clean_up = database_at_0008()
    try:
        engine = sa.create_engine(url)
        now = datetime.now(UTC)
        keys = KeyRing.from_settings(make_settings(url))
        written: list[tuple[uuid.UUID, uuid.UUID, str, list[tuple[uuid.UUID, datetime]]]] = []
        with engine.begin() as connection:
            for zone, moments in diaries:
                owner, login = uuid.uuid4(), uuid.uuid4()
                connection.execute(
                    users.insert().values(
                        id=owner,
                        email=f"{owner.hex}@example.org",
                        role="client",
                        display_name="not read",
                        timezone=zone,
                        password_hash="x",
                        change_seq=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                connection.execute(
                    login_sessions.insert().values(owner_id=owner, id=login, created_at=now)
                )
                rows = [(uuid.uuid4(), moment) for moment in moments]
                connection.execute(
                    entries.insert(),
                    [
                        {
                            "owner_id": owner,
                            "id": entry_id,
                            "occurred_at": moment,
                            "created_at": now,
                            "updated_at": now,
                            "version": 1,
                            "mood": 5,
                            "event": encrypt_value(keys, Entry, "event", owner, entry_id, "Then"),
                            "event_type": "other",
                            "private": False,
                            "tags": encrypt_value(keys, Entry, "tags", owner, entry_id, []),
                        }
                        for entry_id, moment in rows
                    ],
                )
                written.append((owner, login, zone, rows))
        engine.dispose()

        command.upgrade(alembic_config(url), "0009")

        engine = sa.create_engine(url)
        migrated = sa.table(
            "entries",
            sa.column("id", sa.Uuid()),
            sa.column("occurred_at_offset_minutes", sa.Integer()),
            sa.column("local_date", sa.Date()),
        )
        with engine.connect() as connection:
            stored = {row[0]: row[1:] for row in connection.execute(sa.select(migrated))}
        engine.dispose()
        settings_ = make_settings(url)
        app = create_app(settings_)
        with TestClient(app) as http:
            for owner, login, zone, rows in written:
                user = User(id=owner, email="", role=Role.client, display_name="", password_hash="")
                token = create_access_token(user, login, settings_)
                for entry_id, moment in rows:
                    clock = expected_clock(moment, zone)
                    minutes, local_date = stored[entry_id]
                    assert timedelta(minutes=minutes) == clock.utcoffset(), (zone, moment)
                    assert local_date == clock.date(), (zone, moment)
                    read = http.get(
                        f"/v1/entries/{entry_id}", headers={"Authorization": f"Bearer {token}"}
                    )
                    assert read.status_code == 200, read.text
                    answered = datetime.fromisoformat(read.json()["occurred_at"])
                    assert answered == moment
                    assert answered.utcoffset() == clock.utcoffset(), (zone, moment)
        app.state.engine.dispose()
    finally:
        clean_up()


def test_a_database_with_no_entries_migrates(
    database_at_0008: Callable[[], tuple[str, Callable[[], None]]],
) -> None:
    url, clean_up = database_at_0008()
    try:
        command.upgrade(alembic_config(url), "head")
        command.downgrade(alembic_config(url), "0008")
        command.upgrade(alembic_config(url), "head")
    finally:
        clean_up()


def test_the_reference_rounds_local_mean_time_to_whole_minutes() -> None:
    # Amsterdam's winter +00:19:32 in 1920 rounds to +00:20; Madras time's +05:21:10 in 1901
    # to +05:21.
    amsterdam = expected_clock(datetime(1920, 1, 1, 23, 40, 30, tzinfo=UTC), "Europe/Amsterdam")
    assert (amsterdam.utcoffset(), amsterdam.date()) == (timedelta(minutes=20), date(1920, 1, 2))
    kolkata = expected_clock(datetime(1901, 1, 1, tzinfo=UTC), "Asia/Kolkata")
    assert kolkata.utcoffset() == timedelta(hours=5, minutes=21)
