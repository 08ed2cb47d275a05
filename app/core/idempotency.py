"""Idempotency-Key for POST (IETF httpapi-idempotency-key draft).

Everything happens inside the request's own write transaction: the `Writes` dependency
looks the key up (app.core.database.session), the route runs, the unit of work stores its
answer and commits. A concurrent repeat is kept out by a lock that lives only as long as
that transaction (a PostgreSQL advisory transaction lock; SQLite has one writer at a time,
so a repeat simply waits and then replays). A process that dies mid-request takes its lock
and its uncommitted write with it, so a retry runs afresh at once.

The stored answer repeats diary text, so its body is an encrypted field like any other
(app.core.field_encryption): encrypted as it is written, decrypted as it is loaded, and
re-encrypted by key rotation.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from fastapi import Request
from sqlalchemy import delete, func, select
from sqlmodel import Session, col
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from app.core.authentication import subject_of
from app.core.errors import Conflict, ValidationFailed
from app.models.base import utcnow
from app.models.sync import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("content-type", "etag", "location")
_BODY, _PENDING = "idempotent_body", "idempotency_attempt"  # the request state's keys


@dataclass(frozen=True, slots=True)
class Attempt:
    owner_id: uuid.UUID
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    headers: dict[str, str]
    body: bytes


class Replayed(Exception):
    """Raised by the write dependency for a repeated request: answered with the replay."""

    def __init__(self, replay: Replay) -> None:
        super().__init__("replayed")
        self.replay = replay


def key_of(scope: Scope) -> str | None:
    """The Idempotency-Key of an authenticated POST, else None."""
    if scope["method"] != "POST" or subject_of(scope["state"]) is None:
        return None
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            return str(value.decode("latin-1"))
    return None


async def buffered(scope: Scope, receive: Receive) -> Receive:
    """For a request with an Idempotency-Key (`key_of`): its body, read up front (its
    fingerprint must not depend on how the route parses it, a form or JSON), and a
    `receive` that replays it."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = scope["state"][_BODY] = b"".join(chunks)
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying


def attempt_of(request: Request) -> Attempt | None:
    """The attempt of an authenticated POST that carries an Idempotency-Key, else None."""
    key = key_of(request.scope)
    subject = subject_of(request.scope["state"])
    if key is None or subject is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.for_field(
            "header.Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters"
        )
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(request.scope["state"][_BODY])
    return Attempt(subject.user_id, key, digest.hexdigest())


def begin(session: Session, attempt: Attempt) -> Replay | None:
    """In the request's transaction: the stored answer of an earlier attempt, if any."""
    if session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(
            hashlib.sha256(f"{attempt.owner_id}:{attempt.key}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        if not session.execute(select(func.pg_try_advisory_xact_lock(lock))).scalar_one():
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly",
                headers={"Retry-After": "1"},
            )
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.owner_id) == attempt.owner_id,
            col(IdempotencyRecord.created_at) < utcnow() - KEY_LIFETIME,
        )
    )
    existing = session.get(IdempotencyRecord, (attempt.owner_id, attempt.key))
    if existing is None:
        return None
    if existing.fingerprint != attempt.fingerprint:
        raise ValidationFailed.for_field(
            "header.Idempotency-Key", "this key was used with a different request"
        )
    return Replay(existing.status, existing.headers, existing.body)


def remember(request: Request, attempt: Attempt) -> None:
    """Mark the request's answer to be stored with its write."""
    request.scope["state"][_PENDING] = attempt


def pending(state: dict[str, object]) -> Attempt | None:
    """The attempt whose answer the unit of work stores, if the request has one."""
    attempt = state.get(_PENDING)
    return attempt if isinstance(attempt, Attempt) else None


def store(
    session: Session, attempt: Attempt, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Keep the answer, in the transaction of the write it answers."""
    session.add(
        IdempotencyRecord(
            owner_id=attempt.owner_id,
            key=attempt.key,
            fingerprint=attempt.fingerprint,
            created_at=utcnow(),
            status=status,
            headers={k: v for k, v in headers.items() if k in REPLAYED_HEADERS},
            body=body,
        )
    )
    session.flush()


async def replay_response(_request: Request, raised: Exception) -> Response:
    """The exception handler for `Replayed`: the first attempt's answer, marked."""
    replay = cast(Replayed, raised).replay
    return Response(
        replay.body,
        status_code=replay.status,
        headers={**replay.headers, "idempotent-replayed": "true"},
    )
