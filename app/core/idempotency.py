"""Idempotency-Key for POST (IETF httpapi-idempotency-key draft).

Everything happens inside the request's own write transaction: look the key up, run the
request, store its answer, commit. A concurrent repeat is kept out by a lock that lives
only as long as that transaction (a PostgreSQL advisory transaction lock; SQLite has one
writer at a time, so a repeat simply waits and then replays). A process that dies
mid-request takes its lock and its uncommitted write with it, so a retry runs afresh at once.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from app.core.errors import Conflict, Unauthorized, ValidationFailed
from app.core.field_encryption import keys_of
from app.core.security import decode_access_token
from app.core.settings import Settings
from app.models.base import utcnow
from app.models.sync import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("content-type", "etag", "location")


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


def caller_id(authorization: str | None, settings: Settings) -> uuid.UUID | None:
    """The caller's account id from a valid bearer token (the route authenticates fully)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    try:
        return decode_access_token(authorization[7:], settings)[0]
    except Unauthorized:
        return None


def attempt(owner_id: uuid.UUID, key: str, method: str, path: str, body: bytes) -> Attempt:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.for_field(
            "header.Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters"
        )
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return Attempt(owner_id, key, digest.hexdigest())


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
    body = keys_of(session).decrypt(existing.body.decode(), _associated(attempt))
    return Replay(existing.status, existing.headers, body.encode())


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
            body=keys_of(session).encrypt(body.decode(), _associated(attempt)).encode(),
        )
    )
    session.flush()


def _associated(attempt: Attempt) -> bytes:
    # A stored response is diary data too: encrypted like every other free text.
    return f"idempotency_keys.body|{attempt.owner_id}|{attempt.key}".encode()


def headers_of(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
