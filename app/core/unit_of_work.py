"""One database session per request, committed in one place: here.

A write request's transaction is committed after the route has produced its response and
before a byte of it is sent, so a client never sees success for a write that was not kept.
Error responses roll back, except the few problems that must keep their writes (a failed
login is counted). A POST with an Idempotency-Key is looked up, run and stored in one
transaction (app.core.idempotency).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import idempotency
from app.core.crypto import KeyRing
from app.core.db import ON_EVENT_LOOP, SAFE_METHODS, WRITE_OPTION, without_snapshot
from app.core.errors import (
    Conflict,
    PayloadTooLarge,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    problem_response,
)
from app.core.field_encryption import KEYS
from app.core.middleware import BodyTooLarge
from app.core.settings import Settings


class RequestSession:
    """A request's session, opened on first use: a request that never touches the database
    (`/healthz`, `/metrics`, a 401) pays for no session at all."""

    __slots__ = ("_close_on_loop", "_engine", "_info", "_session")

    def __init__(self, engine: Engine, keys: KeyRing, writes: bool, snapshot: bool) -> None:
        self._engine = engine
        # SQLite's in-process rollback and pool return cost less than a hop to a thread, as
        # does PostgreSQL's outside a transaction; otherwise its close is a round trip.
        self._close_on_loop = engine.dialect.name == "sqlite" or not (writes or snapshot)
        # Free text is encrypted with this app's keys; a SQLite read's quick work runs on
        # the event loop (app.core.db.run_quick).
        self._info = {KEYS: keys, ON_EVENT_LOOP: not writes and engine.dialect.name == "sqlite"}
        self._session: Session | None = None

    @property
    def opened(self) -> bool:
        return self._session is not None

    def get(self) -> Session:
        if self._session is None:
            self._session = Session(self._engine, expire_on_commit=False, info=dict(self._info))
        return self._session

    async def close(self) -> None:
        session = self._session
        if session is None:
            return
        if session.get_transaction() is None or self._close_on_loop:
            session.close()
        else:
            await run_in_threadpool(session.close)


class UnitOfWorkMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        settings: Settings,
        keys: KeyRing,
        committing_prefixes: tuple[str, ...] = (),
        no_snapshot_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.keys = keys
        self.committing_prefixes = committing_prefixes
        self.no_snapshot_prefixes = no_snapshot_prefixes
        # A read request sees one snapshot across all its queries (e.g. sync's change log
        # and the rows it names); SQLite's read transactions already do in WAL mode.
        self.read_engine = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # Reads whose statements need not agree with each other (app.core.db).
        self.no_snapshot_engine = without_snapshot(engine)
        # Lazily begun like any other, but as BEGIN IMMEDIATE on SQLite (see app.core.db).
        self.write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        writes = scope["method"] not in SAFE_METHODS or scope["path"].startswith(
            self.committing_prefixes
        )
        engine: Engine
        if writes:
            engine, snapshot = self.write_engine, True
        elif scope["path"].startswith(self.no_snapshot_prefixes):
            engine, snapshot = self.no_snapshot_engine, False
        else:
            engine, snapshot = self.read_engine, True
        session = RequestSession(engine, self.keys, writes, snapshot)
        scope.setdefault("state", {})["db"] = session
        try:
            if writes:
                await self._write(scope, receive, send, session)
            else:
                await self.app(scope, receive, send)
        finally:
            await session.close()

    async def _write(
        self, scope: Scope, receive: Receive, send: Send, session: RequestSession
    ) -> None:
        attempt = None
        headers = idempotency.headers_of(scope["headers"])
        key = headers.get("idempotency-key")
        owner_id = idempotency.caller_id(headers.get("authorization"), self.settings)
        if key is not None and scope["method"] == "POST" and owner_id is not None:
            try:
                body = await _read_body(receive)
                attempt = idempotency.attempt(owner_id, key, scope["method"], scope["path"], body)
                replay = await run_in_threadpool(idempotency.begin, session.get(), attempt)
            except ProblemError as problem:
                await problem_response(problem)(scope, receive, send)
                return
            except BodyTooLarge as too_large:
                await problem_response(PayloadTooLarge(too_large.detail))(scope, receive, send)
                return
            if replay is not None:
                await _send_replay(replay, send)
                return
            receive = _replaying(body)

        if attempt is None:
            await self._commit_then_stream(scope, receive, send, session)
            return
        # An idempotent request's answer is stored with its write: hold it until committed.
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)  # an exception leaves uncommitted: rolled back
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        if not await self._committed(scope, receive, send, session, start, attempt, body):
            return
        for message in messages:
            await send(message)

    async def _commit_then_stream(
        self, scope: Scope, receive: Receive, send: Send, session: RequestSession
    ) -> None:
        """Commit when the response starts, then let its body stream (e.g. an export)."""
        failed = False

        async def commit_first(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                failed = not await self._committed(scope, receive, send, session, message)
            if not failed:
                await send(message)

        await self.app(scope, receive, commit_first)

    async def _committed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        session: RequestSession,
        start: Message,
        attempt: idempotency.Attempt | None = None,
        body: bytes = b"",
    ) -> bool:
        """Commit or roll back for this response; False (and a problem sent) if that failed."""
        if not session.opened:  # e.g. a 401: nothing was read or written
            return True
        keep = start["status"] < 400 or scope["state"].get("keeps_writes", False)
        try:
            await run_in_threadpool(self._finish, session.get(), keep, attempt, start, body)
        except ProblemError as problem:
            await problem_response(problem)(scope, receive, send)
            return False
        return True

    @staticmethod
    def _finish(
        session: Session,
        keep: bool,
        attempt: idempotency.Attempt | None,
        start: Message,
        body: bytes,
    ) -> None:
        if not keep:
            session.rollback()
            return
        if attempt is not None and start["status"] < 400:
            headers = idempotency.headers_of(start.get("headers", []))
            idempotency.store(session, attempt, start["status"], headers, body)
        try:
            session.commit()
        except StaleDataError as exc:
            raise PreconditionFailed("The resource changed while you wrote it") from exc
        except IntegrityError as exc:
            raise Conflict("The change conflicts with another one; retry") from exc
        except OperationalError as exc:  # nothing was kept: a retry can succeed
            raise ServiceUnavailable from exc


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes) -> Callable[[], Any]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send_replay(replay: idempotency.Replay, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in replay.headers.items()]
    headers.append((b"idempotent-replayed", b"true"))
    headers.append((b"content-length", str(len(replay.body)).encode()))
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body})
