"""Engine, per-request session and the few places where SQLite and PostgreSQL differ."""

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "ipt_write"
NO_SNAPSHOT_OPTION = "ipt_no_snapshot"
ON_EVENT_LOOP = "ipt_on_event_loop"  # Session.info: its quick work runs on the event loop
BUSY_TIMEOUT_MS = 10_000
OPTIMIZE_INTERVAL_SECONDS = 3600.0  # SQLite suggests every few hours for long-lived connections
_NEXT_OPTIMIZE = "ipt_next_optimize"
_WRITE_LOCK, _HOLDS_WRITE_LOCK = "ipt_write_lock", "ipt_holds_write_lock"
IDLE_BEFORE_PING_SECONDS = 5.0
_CHECKED_IN_AT = "ipt_checked_in_at"


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


def _configure_sqlite(engine: Engine, database: Path | None) -> None:
    # Writers queue on a lock file before BEGIN IMMEDIATE. SQLite's own busy handler makes a
    # waiting writer sleep and retry (1 ms, 2 ms, … 100 ms), so under concurrent writes the
    # database sits idle while every waiter sleeps, and a write's p99 reached seconds; a
    # blocked flock() wakes as soon as the lock is free. Every connection has its own open
    # file, so threads and worker processes exclude each other alike; closing it (also when
    # a process dies) releases the lock. Writers outside the app (migrations, the CLI) still
    # have the busy timeout. An in-memory database has one connection per thread anyway.
    lock_path = None if database is None else database.with_name(f"{database.name}.write-lock")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
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
        if lock_path is not None:
            record.info[_WRITE_LOCK] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: sqlite3.Connection, record: Any) -> None:
        lock = record.info.pop(_WRITE_LOCK, None)
        if lock is not None:
            os.close(lock)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: sqlite3.Connection | None, record: Any) -> None:
        # After commit or rollback: the next writer may go.
        lock = record.info.get(_WRITE_LOCK)
        if lock is not None and record.info.pop(_HOLDS_WRITE_LOCK, False):
            fcntl.flock(lock, fcntl.LOCK_UN)
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
        options = connection.get_execution_options()
        if options.get(NO_SNAPSHOT_OPTION, False):
            return  # each statement is its own transaction: no BEGIN, nothing to roll back
        immediate = options.get(WRITE_OPTION, False)
        info = connection.connection.info
        lock = info.get(_WRITE_LOCK)
        if immediate and lock is not None and not info.get(_HOLDS_WRITE_LOCK, False):
            fcntl.flock(lock, fcntl.LOCK_EX)
            info[_HOLDS_WRITE_LOCK] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    # pool_pre_ping would ping on every checkout: a round trip per request, ~10% of a read.
    # A connection that was in use a moment ago is alive; one that sat idle (the server may
    # have restarted, a firewall dropped it) is pinged first and replaced if dead.
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError from exc  # the pool retries with a new connection


def without_snapshot(engine: Engine) -> Engine:
    """The engine for reads that need no snapshot across their statements: each statement
    runs in a transaction of its own, which spares PostgreSQL's BEGIN and ROLLBACK round
    trips (and the thread hop for the latter) and SQLite's BEGIN."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    # Not SQLAlchemy's AUTOCOMMIT here: resetting it on check-in would give pysqlite back
    # its own transaction handling, which BEGIN IMMEDIATE relies on being off.
    return engine.execution_options(**{NO_SNAPSHOT_OPTION: True})


def create_db_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        name = url.split("///", 1)[-1]
        database = Path(name) if name and name != ":memory:" else None
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        # Reads check connections out on the event loop (run_quick) and hold them until the
        # response is sent: a bounded pool would block the loop when it runs dry, and with
        # it the requests that would return theirs. A SQLite connection is an open file, so
        # a burst opens more instead of waiting for one. (An in-memory database has one
        # connection per thread, and no such pool.)
        pool = {} if database is None else {"pool_size": 20, "max_overflow": -1}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            json_deserializer=orjson.loads,  # JSON columns are read on every entry
            **pool,
        )
        _configure_sqlite(engine, database)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, json_deserializer=orjson.loads)
    _configure_postgresql(engine)
    return engine


async def get_session(request: Request) -> Session:
    """The request's session, opened on first use and committed by app.core.unit_of_work."""
    session: Session = request.state.db.get()
    return session


# Services flush; only the unit-of-work middleware commits.
SessionDep = Annotated[Session, Depends(get_session)]


P = ParamSpec("P")
T = TypeVar("T")


async def run_quick(session: Session, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run short, bounded database work (a point read, one page of at most 100) for this
    request's session.

    A read on SQLite runs on the event loop: in WAL mode it neither waits for a lock nor
    for the network, and the hop to a thread and back costs more than the query. Anything
    else (PostgreSQL's round trips, a writer that may wait for SQLite's lock) goes to the
    threadpool, so the loop keeps serving other requests.
    """
    if session.info.get(ON_EVENT_LOOP, False):
        return work(*args, **kwargs)
    return await run_in_threadpool(work, *args, **kwargs)
