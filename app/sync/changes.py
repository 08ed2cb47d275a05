"""The per-client change log, written in the same transaction as every diary change.

A `before_flush` hook (installed by create_app) sees every ORM insert, update and delete
of a synced row, takes the next numbers of the owner's change sequence (a counter on the
account row, so concurrent writers of one client queue on that row) and upserts the log.
Nothing else has to remember; bulk statements call `record` themselves.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models.account import User
from app.models.base import utcnow
from app.models.diary import Entry, FocusArea, Person
from app.models.sync import ChangeLogEntry
from app.models.therapy import Measure, TherapySession

SYNCED_TYPES: dict[type[Any], str] = {
    Entry: "entry",
    Person: "person",
    FocusArea: "focus_area",
    TherapySession: "session",
    Measure: "measure",
}

Change = tuple[uuid.UUID, str, uuid.UUID, datetime | None]  # owner, type, id, deleted_at


def record(session: Session, changes: Iterable[Change]) -> None:
    """Give each change the owner's next sequence number and upsert it into the log."""
    by_owner: dict[uuid.UUID, list[Change]] = defaultdict(list)
    for change in changes:
        by_owner[change[0]].append(change)
    users = User.__table__  # type: ignore[attr-defined]
    log = ChangeLogEntry.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for owner_id, owned in by_owner.items():
        last = session.execute(
            update(users)
            .where(users.c.id == owner_id)
            .values(change_seq=users.c.change_seq + len(owned))
            .returning(users.c.change_seq)
        ).scalar_one()
        rows = [
            {
                "owner_id": owner_id,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "seq": last - len(owned) + position,
                "deleted_at": deleted_at,
            }
            for position, (_, entity_type, entity_id, deleted_at) in enumerate(owned, start=1)
        ]
        insert = dialect.insert(log).values(rows)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[log.c.owner_id, log.c.entity_type, log.c.entity_id],
                set_={"seq": insert.excluded.seq, "deleted_at": insert.excluded.deleted_at},
            )
        )


def _record_orm_changes(session: Session, _context: Any, _instances: Any) -> None:
    now = utcnow()
    changes: list[Change] = []
    for rows, deleted_at in ((session.new, None), (session.dirty, None), (session.deleted, now)):
        for row in rows:
            entity_type = SYNCED_TYPES.get(type(row))
            if entity_type is None:
                continue
            if deleted_at is None and row in session.dirty and not session.is_modified(row):
                continue
            changes.append((row.owner_id, entity_type, row.id, deleted_at))
    if changes:
        record(session, changes)


def install_change_log() -> None:
    """Register the hook once per process (apps built in tests share the Session class)."""
    if not event.contains(Session, "before_flush", _record_orm_changes):
        event.listen(Session, "before_flush", _record_orm_changes)
