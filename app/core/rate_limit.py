"""A per-account request limit that several instances agree on, kept in the database.

Fixed one-minute windows: each account's requests in the current minute are counted in the
database (`rate_windows`), shared by every worker and instance; past the limit the answer
is 429 with `Retry-After` until the next minute. RATE_LIMIT_PER_MINUTE=0 switches it off.

A worker does not write every request. It counts an account's requests itself and adds them
to the shared row at most once every SYNC_SECONDS (and on the account's first request of a
minute), so an app that sends many requests costs one short write a second, not one per
request (on SQLite each would queue for the single writer). The price: the requests other
workers took in the last SYNC_SECONDS are not seen yet, so an account may go that far over
the limit before it is refused.
"""

import time
import uuid
from typing import Any

from sqlalchemy import Engine, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.authentication import subject_of
from app.core.errors import TooManyRequests, problem_response
from app.core.settings import Settings
from app.models.account import RateWindow

SYNC_SECONDS = 1.0


class _Window:
    """One account's current minute, as this worker knows it."""

    __slots__ = ("minute", "pending", "shared", "synced_at")

    def __init__(self, minute: int) -> None:
        self.minute = minute
        self.shared = 0  # the shared row's count at the last sync
        self.pending = 0  # requests taken here since then
        self.synced_at = float("-inf")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings) -> None:
        """`engine`: one for write transactions (on SQLite it queues for the write lock like
        any other writer, app.core.database.sqlite)."""
        self.app = app
        self.engine = engine
        self.limit = settings.rate_limit_per_minute
        self.windows: dict[uuid.UUID, _Window] = {}
        self.minute = 0
        self.count_requests = _COUNT_REQUESTS[engine.dialect.name]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        subject = subject_of(scope.get("state", {}))
        if subject is not None:
            now = time.time()
            count = await self._count(subject.user_id, int(now // 60), now)
            if count > self.limit:
                retry_after = int(60 - now % 60) + 1
                problem = TooManyRequests(
                    f"More than {self.limit} requests in a minute; slow down", retry_after
                )
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _count(self, owner_id: uuid.UUID, minute: int, now: float) -> int:
        """This request counted: the account's requests in this minute, as far as known."""
        if minute != self.minute:  # a new minute: the old windows are over
            self.minute = minute
            self.windows = {k: w for k, w in self.windows.items() if w.minute >= minute}
        window = self.windows.get(owner_id)
        if window is None or window.minute != minute:
            window = self.windows[owner_id] = _Window(minute)
        window.pending += 1
        if now - window.synced_at >= SYNC_SECONDS:
            taken, window.pending, window.synced_at = window.pending, 0, now
            first = window.shared == 0
            window.shared = await run_in_threadpool(self._add, owner_id, minute, taken, first)
        return window.shared + window.pending

    def _add(self, owner_id: uuid.UUID, minute: int, taken: int, first: bool) -> int:
        """Add `taken` requests to the shared window; its count afterwards."""
        window = {"owner_id": owner_id, "minute": minute, "taken": taken}
        try:
            with self.engine.begin() as connection:
                count = int(connection.execute(self.count_requests, window).scalar_one())
                if first:  # this worker's first sync of the minute: forget older windows
                    connection.execute(_FORGET_OLDER, window)
        except IntegrityError:
            return 0  # a token of an erased account: not counted, and refused (401) further in
        return count


_windows = RateWindow.__table__  # type: ignore[attr-defined]
_FORGET_OLDER = delete(_windows).where(
    _windows.c.owner_id == bindparam("owner_id"), _windows.c.minute < bindparam("minute")
)


def _count_requests(dialect: Any) -> Any:
    """`taken` more requests in the caller's window, returning the window's count."""
    insert = dialect.insert(_windows).values(
        owner_id=bindparam("owner_id"), minute=bindparam("minute"), requests=bindparam("taken")
    )
    return insert.on_conflict_do_update(
        index_elements=[_windows.c.owner_id, _windows.c.minute],
        set_={"requests": _windows.c.requests + insert.excluded.requests},
    ).returning(_windows.c.requests)


_COUNT_REQUESTS = {"postgresql": _count_requests(postgresql), "sqlite": _count_requests(sqlite)}
