"""The steps every owned, versioned resource shares when it is written: each flush goes
through the one mapping from database errors to problems (app.core.database.problems)."""

from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from app.core.concurrency import check_if_match
from app.core.database.problems import as_problems
from app.models.base import utcnow


class VersionedRow(Protocol):
    version: int
    updated_at: Any


Row = TypeVar("Row", bound=VersionedRow)


def insert(session: Session, row: Row, conflict: str) -> Row:
    """Add a new row; a unique clash (a reused client id, a taken number) is a 409."""
    session.add(row)
    with as_problems(session, conflict=conflict):
        session.flush()
    return row


def update(
    session: Session, row: Row, if_match: str | None, values: dict[str, Any], conflict: str = ""
) -> Row:
    """Apply the sent fields to a row the caller has seen (If-Match); the version bumps. A
    writer that got there first since the check makes this one lose with a 412 naming the
    version that won."""
    check_if_match(if_match, row)
    for field, value in values.items():
        setattr(row, field, value)
    row.updated_at = utcnow()
    session.add(row)
    with as_problems(
        session, conflict=conflict or "The change conflicts with another row", row=row
    ):
        session.flush()
    return row


def delete(session: Session, row: Row, if_match: str | None) -> None:
    check_if_match(if_match, row)
    session.delete(row)
    with as_problems(session, conflict="The row is still referenced", row=row):
        session.flush()
