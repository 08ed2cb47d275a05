"""Engine, per-request session and the few places where SQLite and PostgreSQL differ."""

import contextlib
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from app.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "ipt_write"
BUSY_TIMEOUT_MS = 10_000
OPTIMIZE_INTERVAL_SECONDS = 3600.0  # SQLite suggests every few hours for long-lived connections
_NEXT_OPTIMIZE = "ipt_next_optimize"


def _sqlite_local_time(stored: str | None, zone: str) -> str | None:
    """SQLite has no time-zone database: convert a stored UTC time to local wall time."""
    if stored is None:
        return None
    # Called once per row of a summary: the cheapest spellings (a parsed "+00:00" rather
    # than replace(tzinfo=UTC), isoformat rather than strftime) halve its cost.
    instant = datetime.fromisoformat(f"{stored}+00:00")
    try:
        local = instant.astimezone(ZoneInfo(zone))
    except (OverflowError, ValueError, KeyError):  # out of range, or not a zone: stay in UTC
        local = instant
    return local.isoformat(" ", "seconds")[:19]  # without the offset


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can say BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # erased rows do not linger in free pages
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA analysis_limit=1000")  # ANALYZE samples: milliseconds at most
        cursor.close()
        dbapi_connection.create_function(
            "ipt_local_time", 2, _sqlite_local_time, deterministic=True
        )

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: sqlite3.Connection | None, record: Any) -> None:
        # SQLite's planner has no statistics until ANALYZE runs. Its advice for long-lived
        # connections: PRAGMA optimize now and then, which ANALYZEs the tables this
        # connection used that have no statistics yet or have grown 25-fold since.
        now = time.monotonic()
        if dbapi_connection is None or now < record.info.get(_NEXT_OPTIMIZE, now):
            return
        record.info[_NEXT_OPTIMIZE] = now + OPTIMIZE_INTERVAL_SECONDS
        # Check-in may happen on the event loop: never wait for a writer's lock, statistics
        # can wait for the next time.
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            with contextlib.suppress(sqlite3.OperationalError):
                dbapi_connection.execute("PRAGMA optimize")
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front: a deferred one that upgrades
        # later can fail with SQLITE_BUSY without waiting for the busy timeout.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_db_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            json_deserializer=orjson.loads,  # JSON columns are read on every entry
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_deserializer=orjson.loads
    )


async def get_session(request: Request) -> Session:
    """The request's session, opened on first use and committed by app.core.unit_of_work."""
    session: Session = request.state.db.get()
    return session


# Services flush; only the unit-of-work middleware commits.
SessionDep = Annotated[Session, Depends(get_session)]
