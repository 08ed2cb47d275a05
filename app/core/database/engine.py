"""The engine, and the variant of it each kind of request transaction uses."""

from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine

from app.core.database import postgresql, sqlite
from app.core.settings import Settings


def create_db_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        name = url.split("///", 1)[-1]
        database = Path(name) if name and name != ":memory:" else None
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite.BUSY_TIMEOUT_MS / 1000},
            json_deserializer=orjson.loads,  # JSON columns are read on every entry
            **sqlite.pool_options(database),
        )
        sqlite.configure(engine, database)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, json_deserializer=orjson.loads)
    postgresql.configure(engine)
    return engine


@dataclass(frozen=True, slots=True)
class TransactionEngines:
    """The engine with the options of each kind of transaction a request can have."""

    snapshot: Engine  # one snapshot across the request's statements
    latest: Engine  # each statement its own transaction: it sees the latest commit
    write: Engine  # one write transaction (BEGIN IMMEDIATE behind the writer lock on SQLite)

    @classmethod
    def of(cls, engine: Engine) -> "TransactionEngines":
        snapshot: Engine
        if engine.dialect.name == "postgresql":
            # AUTOCOMMIT spares the BEGIN and ROLLBACK round trips of a read that needs no
            # snapshot (and the thread hop for the latter).
            snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
            latest = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            # SQLite's read transactions see one snapshot already (WAL). Not SQLAlchemy's
            # AUTOCOMMIT for the latest: resetting it on check-in would give pysqlite back
            # its own transaction handling, which BEGIN IMMEDIATE relies on being off.
            snapshot = engine
            latest = engine.execution_options(**{sqlite.NO_SNAPSHOT_OPTION: True})
        write = engine.execution_options(**{sqlite.WRITE_OPTION: True})
        return cls(snapshot=snapshot, latest=latest, write=write)
