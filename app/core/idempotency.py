"""Idempotency-Key for POST (IETF httpapi-idempotency-key draft).

A key is scoped to the caller. Before the request runs, the key is claimed in a short
transaction of its own; the response is stored in the same transaction as the write it
describes, so a key is either "done, with its answer" or "the write did not happen".
A claim left by a crashed process is taken over once it is older than CLAIM_TIMEOUT.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.core.errors import Conflict, ProblemError, ValidationFailed
from app.core.security import JWT_ALGORITHM
from app.core.settings import Settings
from app.models.base import utcnow
from app.models.sync import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("content-type", "etag", "location")


@dataclass(frozen=True, slots=True)
class Claim:
    owner_id: uuid.UUID
    key: str


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
        claims = jwt.decode(
            authorization[7:],
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
        return uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        return None


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.for_field(
            "header.Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters"
        )


def claim(session: Session, owner_id: uuid.UUID, key: str, print_: str) -> Claim | Replay:
    """Claim the key for this request, or say how to answer a repeat of it."""
    now = utcnow()
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.owner_id) == owner_id,
            col(IdempotencyRecord.created_at) < now - KEY_LIFETIME,
        )
    )
    existing = session.get(IdempotencyRecord, (owner_id, key))
    if existing is None:
        session.add(
            IdempotencyRecord(
                owner_id=owner_id, key=key, fingerprint=print_, created_at=now, claimed_at=now
            )
        )
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent first attempt claimed it just now
            raise _in_progress() from exc
        return Claim(owner_id, key)
    if existing.fingerprint != print_:
        raise ValidationFailed.for_field(
            "header.Idempotency-Key", "this key was used with a different request"
        )
    if existing.status is not None:
        return Replay(existing.status, existing.headers or {}, existing.body or b"")
    if existing.claimed_at > now - CLAIM_TIMEOUT:
        raise _in_progress()
    # The first attempt died before committing: nothing it did was kept, so run it again.
    taken = session.exec(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.owner_id) == owner_id,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.claimed_at) == existing.claimed_at,
        )
        .values(claimed_at=now)
    )
    if taken.rowcount != 1:
        raise _in_progress()
    return Claim(owner_id, key)


def _in_progress() -> ProblemError:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


def complete(
    session: Session, claim: Claim, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Store the answer, inside the transaction of the write it answers."""
    session.exec(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.owner_id) == claim.owner_id,
            col(IdempotencyRecord.key) == claim.key,
        )
        .values(
            status=status,
            headers={k: v for k, v in headers.items() if k in REPLAYED_HEADERS},
            body=body,
        )
    )


def release(session: Session, claim: Claim) -> None:
    """Forget a claim whose request failed, so that a retry runs it afresh."""
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.owner_id) == claim.owner_id,
            col(IdempotencyRecord.key) == claim.key,
            col(IdempotencyRecord.status).is_(None),
        )
    )


def headers_of(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
