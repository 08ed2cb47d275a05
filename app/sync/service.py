"""What changed since an anchor: read from the change log in one consistent snapshot."""

import base64
import binascii
import uuid
from collections import defaultdict

import orjson
from sqlmodel import Session, col, select

from app.core.errors import ValidationFailed
from app.core.responses import fragments
from app.core.scoping import OwnerScope
from app.entries import service as entries
from app.focus_areas import service as focus_areas
from app.measures import schedule as measure_schedule
from app.measures.schemas import MeasurePublic
from app.models.account import User
from app.models.diary import FocusArea, Person
from app.models.reminders import Reminder
from app.models.sync import ChangeLogEntry
from app.models.therapy import Measure, TherapySession
from app.people.schemas import PersonPublic
from app.reminders.schemas import ReminderPublic
from app.safety import service as safety
from app.sessions.schemas import TherapySessionPublic
from app.sync.schemas import SyncPage, Tombstone

_ANCHOR_PREFIX = "seq:"


def encode_anchor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_ANCHOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_anchor(anchor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(anchor + "=" * (-len(anchor) % 4)).decode()
        if raw.startswith(_ANCHOR_PREFIX):
            seq = int(raw.removeprefix(_ANCHOR_PREFIX))
            if 0 <= seq < 2**63:
                return seq
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationFailed.for_field("query.since", "not an anchor this API issued")


def changes_since(session: Session, scope: OwnerScope, since: int, limit: int) -> bytes:
    """SyncPage's JSON: the entries as the projection writes them, the rest by pydantic."""
    # The log and the rows it points at come from one snapshot (the route's mode is Reads).
    issued = session.exec(select(User.change_seq).where(col(User.id) == scope.owner_id)).one()
    if since > issued:
        # E.g. the server was restored from a backup older than the device's last sync.
        raise ValidationFailed.for_field(
            "query.since", "this anchor is ahead of the server: sync again without `since`"
        )
    log = session.exec(
        scope.select(ChangeLogEntry)
        .where(col(ChangeLogEntry.seq) > since)
        .order_by(col(ChangeLogEntry.seq))
        .limit(limit + 1)
    ).all()
    has_more = len(log) > limit
    log = log[:limit]

    changed: dict[str, list[uuid.UUID]] = defaultdict(list)
    deleted = []
    for change in log:
        if change.deleted_at is None:
            changed[change.entity_type].append(change.entity_id)
        else:
            deleted.append(
                Tombstone.model_validate(
                    {
                        "type": change.entity_type,
                        "id": change.entity_id,
                        "deleted_at": change.deleted_at,
                    }
                )
            )

    def rows(model: type, kind: str) -> list:  # type: ignore[type-arg]
        ids = changed.get(kind)
        if not ids:
            return []
        return list(session.exec(scope.select(model).where(col(model.id).in_(ids))))  # type: ignore[attr-defined]

    people_of = focus_areas.person_ids_by_focus_area(session, scope, changed.get("focus_area", []))
    page = SyncPage.model_construct(
        entries=[],
        people=[
            PersonPublic.model_validate(p, from_attributes=True) for p in rows(Person, "person")
        ],
        focus_areas=[
            focus_areas.to_public(f, people_of[f.id]) for f in rows(FocusArea, "focus_area")
        ],
        sessions=[
            TherapySessionPublic.model_validate(s, from_attributes=True)
            for s in rows(TherapySession, "session")
        ],
        measures=[
            MeasurePublic.model_validate(m, from_attributes=True) for m in rows(Measure, "measure")
        ],
        safety_events=safety.by_ids(session, scope, changed.get("safety_event", [])),
        reminders=[
            ReminderPublic.model_validate(r, from_attributes=True)
            for r in rows(Reminder, "reminder")
        ],
        measure_schedule=(
            measure_schedule.read(session, scope)
            if measure_schedule.SCHEDULE_TYPE in changed
            else None
        ),
        deleted=deleted,
        next_anchor=encode_anchor(log[-1].seq if log else since),
        has_more=has_more,
    ).model_dump(mode="json")
    page["entries"] = fragments(entries.by_ids(session, scope, changed.get("entry", [])))
    return orjson.dumps(page)
