"""One database session per request, committed in one place: here.

Each route declares how it uses the database (app.core.database.session); this middleware
gives every request its `RequestDatabase`, and for a route that writes, commits its
transaction after the route has produced its response and before a byte of it is sent, so
a client never sees success for a write that was not kept. Error responses roll back,
except the few problems that must keep their writes (a failed login is counted). A POST
with an Idempotency-Key has its answer stored in the same transaction
(app.core.idempotency), so it is held until committed. The only other commits are the
rate limiter's shared counts, in transactions of their own (app.core.rate_limit).
"""

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import idempotency
from app.core.crypto import KeyRing
from app.core.database.engine import TransactionEngines
from app.core.database.problems import as_problems
from app.core.database.session import RequestDatabase
from app.core.errors import PayloadTooLarge, ProblemError, problem_response
from app.core.middleware import BodyTooLarge


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, engines: TransactionEngines, keys: KeyRing) -> None:
        self.app = app
        self.engines = engines
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        database = RequestDatabase(self.engines, self.keys)
        state = scope.setdefault("state", {})
        state["db"] = database
        if idempotency.key_of(scope) is not None:
            try:
                receive = await idempotency.buffered(scope, receive)
            except BodyTooLarge as too_large:
                await problem_response(PayloadTooLarge(too_large.detail))(scope, receive, send)
                return
        held: list[Message] | None = None  # an idempotent answer, until it is committed
        failed = False

        async def send_committed(message: Message) -> None:
            nonlocal held, failed
            if failed:
                return
            if held is not None:
                held.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    failed = not await self._commit(scope, receive, send, database, held)
                    if not failed:
                        for kept in held:
                            await send(kept)
                return
            if message["type"] == "http.response.start" and database.writes and database.opened:
                attempt = idempotency.pending(state)
                if attempt is not None and message["status"] < 400:
                    held = [message]
                    return
                # Committed when the response starts, so its body can stream (an export).
                failed = not await self._commit(scope, receive, send, database, [message])
                if failed:
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_committed)
        finally:
            await database.close()

    async def _commit(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        database: RequestDatabase,
        messages: list[Message],
    ) -> bool:
        """Commit or roll back for this response; False (and a problem sent) if that failed."""
        start = messages[0]
        keep = start["status"] < 400 or scope["state"].get("keeps_writes", False)
        attempt = idempotency.pending(scope["state"]) if start["status"] < 400 else None
        body = b"".join(m.get("body", b"") for m in messages[1:])
        try:
            await run_in_threadpool(_finish, database, keep, attempt, start, body)
        except ProblemError as problem:
            await problem_response(problem)(scope, receive, send)
            return False
        return True


def _finish(
    database: RequestDatabase,
    keep: bool,
    attempt: idempotency.Attempt | None,
    start: Message,
    body: bytes,
) -> None:
    session = database.session
    if not keep:
        session.rollback()
        return
    with as_problems(session):
        if attempt is not None:
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in start.get("headers", [])
            }
            idempotency.store(session, attempt, start["status"], headers, body)
        session.commit()
