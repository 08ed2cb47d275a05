"""Safety events: each notice the API gives is kept with the entry or measure that raised it,
in the write's transaction, and deleted with it. A therapist's scope leaves out those of
private entries (app.core.scoping)."""

import uuid
from collections.abc import Sequence

from sqlmodel import Session, col

from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.models.safety import SafetyEvent, SafetyReason
from app.safety.schemas import SafetyEventPublic


def _source(entry_id: uuid.UUID | None, measure_id: uuid.UUID | None) -> dict[str, object]:
    if (entry_id is None) == (measure_id is None):
        raise ValueError("a safety event has one source: an entry or a measure")
    return {"entry_id": entry_id, "measure_id": measure_id}


def record(
    session: Session,
    scope: OwnerScope,
    reason: SafetyReason,
    *,
    entry_id: uuid.UUID | None = None,
    measure_id: uuid.UUID | None = None,
) -> None:
    """Keep the notice just given for this source, unless one was kept for it already."""
    source = _source(entry_id, measure_id)
    kept = session.exec(
        scope.select(SafetyEvent).where(
            col(SafetyEvent.reason) == reason,
            *(getattr(SafetyEvent, name) == value for name, value in source.items() if value),
        )
    ).first()
    if kept is None:
        session.add(scope.new_row(SafetyEvent, {"reason": reason, **source}, None))
        session.flush()


def forget(
    session: Session,
    scope: OwnerScope,
    *,
    entry_id: uuid.UUID | None = None,
    measure_id: uuid.UUID | None = None,
) -> None:
    """Delete the events of a source about to be deleted (as rows, so sync reports them)."""
    source = _source(entry_id, measure_id)
    for event in session.exec(
        scope.select(SafetyEvent).where(
            *(getattr(SafetyEvent, name) == value for name, value in source.items() if value)
        )
    ):
        session.delete(event)
    session.flush()


def public(event: SafetyEvent) -> SafetyEventPublic:
    return SafetyEventPublic(
        id=event.id,
        at=event.at,
        reason=event.reason,
        source_type="entry" if event.entry_id is not None else "measure",
        source_id=event.entry_id or event.measure_id,
    )


def get(session: Session, scope: OwnerScope, event_id: uuid.UUID) -> SafetyEventPublic:
    return public(scope.get(session, SafetyEvent, event_id, "safety event"))


def page(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[SafetyEventPublic], str | None]:
    rows, next_cursor = keyset_page(
        session,
        scope.select(SafetyEvent),
        col(SafetyEvent.at),
        col(SafetyEvent.id),
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return [public(row) for row in rows], next_cursor


def by_ids(
    session: Session, scope: OwnerScope, ids: Sequence[uuid.UUID]
) -> list[SafetyEventPublic]:
    if not ids:
        return []
    rows = session.exec(scope.select(SafetyEvent).where(col(SafetyEvent.id).in_(ids)))
    return [public(row) for row in rows]
