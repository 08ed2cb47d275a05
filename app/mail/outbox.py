"""Writing to the outbox, and waking this process's senders once that write is committed.

`enqueue` adds the message to the caller's session: it is sent only if the transaction that
decided to send it commits, and nothing is lost if the mail server is down then. A session
that enqueued marks itself; the `after_commit` hook (installed by create_app) wakes every
sender running in this process, so a message usually leaves within milliseconds of its
commit instead of at the next poll.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from app.models.mail import OutboxMessage

_QUEUED = "mail_queued"  # a Session.info key: this transaction wrote to the outbox
Waker = Callable[[], None]
_wakers: set[Waker] = set()


def enqueue(session: Session, recipient: str, message: bytes, expires_at: datetime) -> None:
    session.add(OutboxMessage(recipient=recipient, message=message, expires_at=expires_at))
    session.info[_QUEUED] = True


def add_waker(wake: Waker) -> None:
    _wakers.add(wake)


def discard_waker(wake: Waker) -> None:
    _wakers.discard(wake)


def _wake_senders(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        for wake in tuple(_wakers):
            wake()


def _forget_queued(session: Session, _previous: Any = None) -> None:
    session.info.pop(_QUEUED, None)


def install_outbox_wakeup() -> None:
    """Register the hooks once per process (apps built in tests share the Session class)."""
    if not event.contains(Session, "after_commit", _wake_senders):
        event.listen(Session, "after_commit", _wake_senders)
        event.listen(Session, "after_rollback", _forget_queued)
