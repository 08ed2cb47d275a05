"""The outbox's sender: a task in every instance's lifespan that claims due messages and
delivers them, so a message goes out exactly once whichever instances are running.

A claim is a short transaction that moves the claimed messages' `next_attempt_at` a lease
ahead: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (two instances claim disjoint
messages, neither waits), the writer lock on SQLite (claims queue). Delivered, a message is
deleted; failed, it is due again after a backoff (1 s, 2 s, 4 s … at most a minute). Only
an instance that dies between delivering and deleting sends a message twice, once its lease
has run out: the one duplicate SMTP itself cannot rule out.

The task wakes when a transaction of this process that enqueued mail commits
(app.mail.outbox), when the next retry is due, and at least every IDLE_POLL_SECONDS for
messages other instances wrote and could not send. Logs name the outbox row, never an
address or a message.
"""

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from starlette.concurrency import run_in_threadpool

from app.core.database.engine import TransactionEngines
from app.core.settings import Settings
from app.mail import outbox
from app.mail.transport import Transport, TransportError, transport_for
from app.models.base import utcnow
from app.models.mail import OutboxMessage

BATCH = 20
LEASE = timedelta(minutes=2)  # well beyond a batch's SMTP timeouts
MAX_BACKOFF_SECONDS = 60.0
IDLE_POLL_SECONDS = 10.0
MIN_WAIT_SECONDS = 0.05

logger = logging.getLogger("app.mail")
_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    recipient: str
    message: bytes
    attempts: int  # this one included


def backoff_seconds(attempts: int) -> float:
    return min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts - 1))


class MailSender:
    def __init__(self, engines: TransactionEngines, settings: Settings) -> None:
        self._engines = engines
        self._transport: Transport = transport_for(settings)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._waker: outbox.Waker | None = None
        self._stopping = False

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        self._stopping = False

        def waker() -> None:  # called from the thread that committed
            with contextlib.suppress(RuntimeError):  # the loop is closing: it sends no more
                loop.call_soon_threadsafe(wake.set)

        self._waker = waker
        outbox.add_waker(waker)
        self._task = asyncio.create_task(self._run(wake), name="mail-sender")

    async def stop(self) -> None:
        """Stop after the pass under way, if any. Not by cancelling it: its thread would go
        on, with a connection the engine's disposal then misses, and a message may be
        between its delivery and its deletion."""
        if self._waker is not None:
            outbox.discard_waker(self._waker)
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        self._task = self._waker = None

    async def _run(self, wake: asyncio.Event) -> None:
        while not self._stopping:
            wake.clear()  # before the pass: a commit during it wakes the next one
            try:
                wait = await run_in_threadpool(self.send_due)
            except Exception as exc:  # the database out of reach: try again later
                logger.warning("mail outbox unavailable", extra={"fields": _error(exc)})
                wait = IDLE_POLL_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)

    def send_due(self) -> float:
        """Deliver every message due now; the seconds until the next pass."""
        while True:
            claimed = self._claim()
            self._deliver(claimed)
            if len(claimed) < BATCH or self._stopping:
                return self._seconds_until_next()

    def _claim(self) -> list[Claimed]:
        now = utcnow()
        with self._engines.write.begin() as connection:
            connection.execute(delete(_outbox).where(_outbox.c.expires_at <= now))
            rows = connection.execute(
                select(_outbox.c.id, _outbox.c.recipient, _outbox.c.message, _outbox.c.attempts)
                .where(_outbox.c.next_attempt_at <= now)
                .order_by(_outbox.c.next_attempt_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            connection.execute(
                update(_outbox)
                .where(_outbox.c.id.in_([row.id for row in rows]))
                .values(next_attempt_at=now + LEASE, attempts=_outbox.c.attempts + 1)
            )
        return [Claimed(row.id, row.recipient, row.message, row.attempts + 1) for row in rows]

    def _deliver(self, claimed: list[Claimed]) -> None:
        if not claimed:
            return
        remaining = list(claimed)
        try:
            with self._transport.connection() as deliver:
                while remaining:
                    message = remaining.pop(0)
                    try:
                        deliver(str(message.id), message.recipient, message.message)
                    except TransportError as exc:
                        self._retry_later(message, exc)
                        continue
                    self._forget(message)
        except TransportError as exc:  # no connection: the rest of the batch was not sent
            for message in remaining:
                self._retry_later(message, exc)

    def _forget(self, message: Claimed) -> None:
        with self._engines.write.begin() as connection:
            connection.execute(delete(_outbox).where(_outbox.c.id == message.id))
        logger.info("mail sent", extra={"fields": _row(message)})

    def _retry_later(self, message: Claimed, exc: BaseException) -> None:
        delay = backoff_seconds(message.attempts)
        with self._engines.write.begin() as connection:
            connection.execute(
                update(_outbox)
                .where(_outbox.c.id == message.id)
                .values(next_attempt_at=utcnow() + timedelta(seconds=delay))
            )
        fields = _row(message) | _error(exc) | {"retry_in_s": delay}
        logger.warning("mail not sent", extra={"fields": fields})

    def _seconds_until_next(self) -> float:
        with self._engines.latest.connect() as connection:
            due: datetime | None = connection.execute(
                select(func.min(_outbox.c.next_attempt_at))
            ).scalar_one()
        if due is None:
            return IDLE_POLL_SECONDS
        seconds = (due - utcnow()).total_seconds()
        return min(IDLE_POLL_SECONDS, max(MIN_WAIT_SECONDS, seconds))


def _row(message: Claimed) -> dict[str, object]:
    return {"outbox_id": str(message.id), "attempt": message.attempts}


def _error(exc: BaseException) -> dict[str, object]:
    # The class only: an SMTP or database error's text can quote an address.
    return {"error": type(exc).__name__}
