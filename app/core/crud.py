"""The few steps every owned, versioned resource shares when it is written."""

from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from app.core.concurrency import check_if_match
from app.core.errors import Conflict, PreconditionFailed
from app.models.base import utcnow


class VersionedRow(Protocol):
    version: int
    updated_at: Any


Row = TypeVar("Row", bound=VersionedRow)


def flush_or_conflict(session: Session, conflict: str) -> None:
    """Flush; a unique clash (a reused client id, a taken session number) is a 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def _flush_versioned(session: Session, row: Any, conflict: str) -> None:
    """Flush a change to a row whose If-Match passed; a writer that got there first since
    then makes this one lose with 412, naming the version that won."""
    identity = inspect(row).identity
    try:
        flush_or_conflict(session, conflict)
    except StaleDataError as exc:
        session.rollback()
        current = session.get(type(row), identity)
        if current is None:
            raise PreconditionFailed("The resource was deleted while you wrote it") from exc
        etag = f'"{current.version}"'
        raise PreconditionFailed(
            "The resource changed while you wrote it; re-read it and merge",
            headers={"ETag": etag},
            current_etag=etag,
        ) from exc


def insert(session: Session, row: Row, conflict: str) -> Row:
    session.add(row)
    flush_or_conflict(session, conflict)
    return row


def update(
    session: Session, row: Row, if_match: str | None, values: dict[str, Any], conflict: str = ""
) -> Row:
    """Apply the sent fields to a row the caller has seen (If-Match); the version bumps."""
    check_if_match(if_match, row)
    for field, value in values.items():
        setattr(row, field, value)
    row.updated_at = utcnow()
    session.add(row)
    _flush_versioned(session, row, conflict or "The change conflicts with another row")
    return row


def delete(session: Session, row: Row, if_match: str | None) -> None:
    check_if_match(if_match, row)
    session.delete(row)
    _flush_versioned(session, row, "The row is still referenced")
