"""The few steps every owned, versioned resource shares when it is written."""

from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core.concurrency import check_if_match
from app.core.errors import Conflict
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
    flush_or_conflict(session, conflict or "The change conflicts with another row")
    return row


def delete(session: Session, row: Row, if_match: str | None) -> None:
    check_if_match(if_match, row)
    session.delete(row)
    session.flush()
