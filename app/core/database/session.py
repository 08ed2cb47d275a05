"""A request's database session, in the mode its route declares.

Every route that touches the database declares how, with its first parameter, and does its
database work in `db.run` (one call, or one per dependency that needs it):

    async def read_entry(db: LatestReads, entry_id: uuid.UUID, scope: ClientScope) -> Response:
        entry = await db.run(service.get_json, scope, entry_id)

| mode          | transaction                                  | SQLite work runs  |
|---------------|----------------------------------------------|-------------------|
| `Reads`       | one snapshot of the database                 | on the event loop |
| `LatestReads` | none: each statement sees the latest commit  | on the event loop |
| `ReportReads` | one snapshot, for work over a whole diary    | in the threadpool |
| `Writes`      | one write transaction, committed by the unit | in the threadpool |
|               | of work before the response is sent          |                   |

On PostgreSQL, all work runs in the threadpool.

A read on SQLite runs on the event loop when it is bounded (a row, a page of at most 100):
in WAL mode it waits neither for a lock nor for the network, and the hop to a thread and
back costs more than the query. Everything else goes to the threadpool, so the loop keeps
serving other requests. The session is opened on first use: a request that never touches
the database (`/healthz`, a 401) pays for none.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.core import idempotency
from app.core.crypto import KeyRing
from app.core.database.engine import TransactionEngines
from app.core.field_encryption import KEYS

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    snapshot: bool  # the request's statements see one snapshot
    bounded: bool  # quick work: on the event loop on SQLite
    writes: bool  # committed by the unit of work


READS = Mode("reads", snapshot=True, bounded=True, writes=False)
LATEST_READS = Mode("latest reads", snapshot=False, bounded=True, writes=False)
REPORT_READS = Mode("report reads", snapshot=True, bounded=False, writes=False)
WRITES = Mode("writes", snapshot=True, bounded=False, writes=True)
MODES = (READS, LATEST_READS, REPORT_READS, WRITES)


class UndeclaredMode(RuntimeError):
    """A route used the database without declaring how (a programming error)."""


class RequestDatabase:
    """The request's session in its route's mode; created by the unit of work."""

    __slots__ = ("_engines", "_keys", "_mode", "_on_loop", "_session", "_sqlite")

    def __init__(self, engines: TransactionEngines, keys: KeyRing) -> None:
        self._engines = engines
        self._keys = keys
        self._sqlite = engines.write.dialect.name == "sqlite"
        self._mode: Mode | None = None
        self._on_loop = False
        self._session: Session | None = None

    def declare(self, mode: Mode) -> None:
        if self._mode is not None and self._mode is not mode:
            raise UndeclaredMode(
                f"a route declares one database mode, not {self._mode.name} and {mode.name}"
            )
        self._mode = mode
        self._on_loop = self._sqlite and mode.bounded

    @property
    def writes(self) -> bool:
        return self._mode is not None and self._mode.writes

    @property
    def opened(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> Session:
        """The session, opened on first use (for work that runs outside `run`, such as an
        export's stream, which Starlette iterates in its threadpool)."""
        if self._session is None:
            mode = self._mode
            if mode is None:
                raise UndeclaredMode("this route uses the database without declaring a mode")
            if mode.writes:
                engine = self._engines.write
            else:
                engine = self._engines.snapshot if mode.snapshot else self._engines.latest
            self._session = Session(engine, expire_on_commit=False, info={KEYS: self._keys})
        return self._session

    async def run(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(session, *args, **kwargs)`, where this mode runs its work."""
        session = self.session
        if self._on_loop:
            return work(session, *args, **kwargs)
        return await run_in_threadpool(work, session, *args, **kwargs)

    async def close(self) -> None:
        session = self._session
        if session is None:
            return
        # SQLite's in-process rollback and pool return cost less than a hop to a thread, as
        # does PostgreSQL's outside a transaction; otherwise its close is a round trip.
        mode = self._mode
        in_process = self._sqlite or (mode is not None and not mode.snapshot)
        if in_process or session.get_transaction() is None:
            session.close()
        else:
            await run_in_threadpool(session.close)


def request_database(request: Request) -> RequestDatabase:
    database: RequestDatabase = request.scope["state"]["db"]
    return database


async def _reads(request: Request) -> RequestDatabase:
    return _declare(request, READS)


async def _latest_reads(request: Request) -> RequestDatabase:
    return _declare(request, LATEST_READS)


async def _report_reads(request: Request) -> RequestDatabase:
    return _declare(request, REPORT_READS)


async def _writes(request: Request) -> RequestDatabase:
    """The write transaction; a POST with an Idempotency-Key is looked up in it first: a
    repeat answers what the first attempt answered (app.core.idempotency)."""
    database = _declare(request, WRITES)
    attempt = idempotency.attempt_of(request)
    if attempt is not None:
        replay = await database.run(idempotency.begin, attempt)
        if replay is not None:
            raise idempotency.Replayed(replay)
        idempotency.remember(request, attempt)  # stored with the write by the unit of work
    return database


def _declare(request: Request, mode: Mode) -> RequestDatabase:
    database = request_database(request)
    database.declare(mode)
    return database


Reads = Annotated[RequestDatabase, Depends(_reads)]
LatestReads = Annotated[RequestDatabase, Depends(_latest_reads)]
ReportReads = Annotated[RequestDatabase, Depends(_report_reads)]
Writes = Annotated[RequestDatabase, Depends(_writes)]
MODE_DEPENDENCIES = frozenset({_reads, _latest_reads, _report_reads, _writes})
