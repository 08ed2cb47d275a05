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

from sqlalchemy import bindparam, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.models.account import User
from app.models.base import utcnow
from app.models.diary import Entry, FocusArea, Person
from app.models.reminders import Reminder
from app.models.safety import SafetyEvent
from app.models.sync import ChangeLogEntry
from app.models.therapy import Measure, TherapySession

SYNCED_TYPES: dict[type[Any], str] = {
    Entry: "entry",
    Person: "person",
    FocusArea: "focus_area",
    TherapySession: "session",
    Measure: "measure",
    SafetyEvent: "safety_event",
    Reminder: "reminder",
}

Change = tuple[uuid.UUID, str, uuid.UUID, datetime | None]  # owner, type, id, deleted_at


_users = User.__table__  # type: ignore[attr-defined]
_log = ChangeLogEntry.__table__  # type: ignore[attr-defined]
# Built once: every write runs them, and building a statement costs more than running it.
_TAKE_NUMBERS = (
    update(_users)
    .where(_users.c.id == bindparam("owner"))
    .values(change_seq=_users.c.change_seq + bindparam("count"))
    .returning(_users.c.change_seq)
)


def _upsert(dialect: Any) -> Any:
    insert = dialect.insert(_log)
    return insert.on_conflict_do_update(
        index_elements=[_log.c.owner_id, _log.c.entity_type, _log.c.entity_id],
        set_={"seq": insert.excluded.seq, "deleted_at": insert.excluded.deleted_at},
    )


_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def record(session: Session, changes: Iterable[Change]) -> None:
    """Give each change the owner's next sequence number and upsert it into the log."""
    by_owner: dict[uuid.UUID, list[Change]] = defaultdict(list)
    for change in changes:
        by_owner[change[0]].append(change)
    upsert = _UPSERT[session.get_bind().dialect.name]
    for owner_id, owned in by_owner.items():
        last = session.execute(_TAKE_NUMBERS, {"owner": owner_id, "count": len(owned)}).scalar_one()
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
        session.execute(upsert, rows)


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
