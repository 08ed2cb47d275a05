"""Engine, per-request session and the few places where SQLite and PostgreSQL differ."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from app.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "ipt_write"


def _sqlite_local_time(stored: str | None, zone: str) -> str | None:
    """SQLite has no time-zone database: convert a stored UTC time to local wall time."""
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    try:
        return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, KeyError):  # out of range, or not a zone: stay in UTC
        return instant.strftime("%Y-%m-%d %H:%M:%S")


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
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        dbapi_connection.create_function(
            "ipt_local_time", 2, _sqlite_local_time, deterministic=True
        )

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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


async def get_session(request: Request) -> Session:
    """The request's session, opened on first use and committed by app.core.unit_of_work."""
    session: Session = request.state.db.get()
    return session


# Services flush; only the unit-of-work middleware commits.
SessionDep = Annotated[Session, Depends(get_session)]
