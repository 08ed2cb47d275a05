"""Throttles of the account routes a caller reaches without logging in (or with a code to
guess): requests counted per key in fixed 15-minute windows, in the database so every
instance agrees. A key is a keyed hash of what it counts (an address, a client's IP, an
account), never the value: the table holds no address."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.core.errors import TooManyRequests
from app.core.settings import Settings
from app.models.account import RequestThrottle

WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    per_window: int


RESET_PER_ADDRESS = Limit("password-reset/address", 5)
RESET_PER_CLIENT = Limit("password-reset/client", 30)
CONFIRM_PER_ADDRESS = Limit("password-reset-confirm/address", 10)
CONFIRM_PER_CLIENT = Limit("password-reset-confirm/client", 30)
VERIFY_PER_ACCOUNT = Limit("verify-email/account", 10)
RESEND_PER_ACCOUNT = Limit("verify-email-resend/account", 3)


class Throttled(TooManyRequests):
    keeps_writes = True  # the request just counted stays counted


def take(
    session: Session, limit: Limit, value: str, settings: Settings, now: float | None = None
) -> None:
    """Count one request against `value`; 429 once the window holds more than the limit."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = hmac.new(
        settings.secret_key.get_secret_value().encode(),
        f"{limit.name}|{value}".encode(),
        hashlib.sha256,
    ).hexdigest()
    dialect = session.get_bind().dialect.name
    hits = session.execute(_COUNT[dialect], {"key_hash": key, "window": window}).scalar_one()
    if hits == 1:
        # A key's first request of a window: every key's older windows are over. Swept
        # here, the table holds about one window of keys, however many never come back.
        session.execute(_FORGET_OLDER, {"window": window})
    if hits > limit.per_window:
        retry_after = int((window + 1) * WINDOW_SECONDS - now) + 1
        raise Throttled("Too many attempts; try again later", retry_after)


_throttles = RequestThrottle.__table__  # type: ignore[attr-defined]
# Rows another request is sweeping at the same moment are skipped, not waited for: two
# sweeps never wait on each other, so they never deadlock (PostgreSQL; SQLite has one writer).
_FORGET_OLDER = delete(_throttles).where(
    tuple_(_throttles.c.key_hash, _throttles.c.window).in_(
        select(_throttles.c.key_hash, _throttles.c.window)
        .where(_throttles.c.window < bindparam("window"))
        .with_for_update(skip_locked=True)
    )
)


def _count(dialect: Any) -> Any:
    insert = dialect.insert(_throttles).values(
        key_hash=bindparam("key_hash"), window=bindparam("window"), hits=1
    )
    return insert.on_conflict_do_update(
        index_elements=[_throttles.c.key_hash, _throttles.c.window],
        set_={"hits": _throttles.c.hits + 1},
    ).returning(_throttles.c.hits)


_COUNT = {"postgresql": _count(postgresql), "sqlite": _count(sqlite)}
