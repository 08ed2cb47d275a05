"""A per-account request limit that several instances agree on, kept in the database.

Fixed one-minute windows: each authenticated request adds one to its account's row for the
current minute (an upsert in its own short transaction); past the limit the answer is 429
with `Retry-After` until the next minute. RATE_LIMIT_PER_MINUTE=0 switches it off.
"""

import time
import uuid
from typing import Any

from sqlalchemy import Engine, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import TooManyRequests, problem_response
from app.core.idempotency import caller_id, headers_of
from app.core.settings import Settings
from app.models.account import RateWindow


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings
        self.limit = settings.rate_limit_per_minute
        # Built once: it runs on every authenticated request.
        self.count_request = _count_request(
            postgresql if engine.dialect.name == "postgresql" else sqlite
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        owner_id = caller_id(headers_of(scope["headers"]).get("authorization"), self.settings)
        if owner_id is not None:
            now = time.time()
            minute = int(now // 60)
            count = await run_in_threadpool(self._count, owner_id, minute)
            if count > self.limit:
                retry_after = int(60 - now % 60) + 1
                problem = TooManyRequests(
                    f"More than {self.limit} requests in a minute; slow down", retry_after
                )
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _count(self, owner_id: uuid.UUID, minute: int) -> int:
        window = {"owner_id": owner_id, "minute": minute}
        try:
            with self.engine.begin() as connection:
                count = int(connection.execute(self.count_request, window).scalar_one())
                if count == 1:  # first request of a new minute: forget the older windows
                    connection.execute(_FORGET_OLDER, window)
        except IntegrityError:
            return 0  # a token of an erased account: not counted, and refused (401) further in
        return count


_windows = RateWindow.__table__  # type: ignore[attr-defined]
_FORGET_OLDER = delete(_windows).where(
    _windows.c.owner_id == bindparam("owner_id"), _windows.c.minute < bindparam("minute")
)


def _count_request(dialect: Any) -> Any:
    """One more request in the caller's window, returning the window's count."""
    insert = dialect.insert(_windows).values(
        owner_id=bindparam("owner_id"), minute=bindparam("minute"), requests=1
    )
    return insert.on_conflict_do_update(
        index_elements=[_windows.c.owner_id, _windows.c.minute],
        set_={"requests": _windows.c.requests + 1},
    ).returning(_windows.c.requests)
