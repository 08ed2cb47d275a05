"""SQLite as the service uses it: WAL, foreign keys, secure delete, writers queued on a
lock file, and statistics gathered now and then."""

import contextlib
import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

BUSY_TIMEOUT_MS = 10_000
OPTIMIZE_INTERVAL_SECONDS = 3600.0  # SQLite suggests every few hours for long-lived connections
# Execution options the request session sets (app.core.database.session).
WRITE_OPTION = "ipt_write"
NO_SNAPSHOT_OPTION = "ipt_no_snapshot"
_NEXT_OPTIMIZE = "ipt_next_optimize"
_WRITE_LOCK, _HOLDS_WRITE_LOCK = "ipt_write_lock", "ipt_holds_write_lock"


def write_lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.write-lock")


def configure(engine: Engine, database: Path | None) -> None:
    # Writers queue on a lock file before BEGIN IMMEDIATE. SQLite's own busy handler makes a
    # waiting writer sleep and retry (1 ms, 2 ms, … 100 ms), so under concurrent writes the
    # database sits idle while every waiter sleeps, and a write's p99 reached seconds; a
    # blocked flock() wakes as soon as the lock is free. Every connection has its own open
    # file, so threads and worker processes exclude each other alike; closing it (also when
    # a process dies) releases the lock. Writers outside the app (migrations, the CLI) still
    # have the busy timeout. An in-memory database has one connection per thread anyway.
    lock_path = None if database is None else write_lock_path(database)

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


def pool_options(database: Path | None) -> dict[str, Any]:
    # Reads check connections out on the event loop and hold them until the response is
    # sent: a bounded pool would block the loop when it runs dry, and with it the requests
    # that would return theirs. A SQLite connection is an open file, so a burst opens more
    # instead of waiting for one. (An in-memory database has one connection per thread, and
    # no such pool.)
    return {} if database is None else {"pool_size": 20, "max_overflow": -1}
