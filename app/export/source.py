"""The diary, read for export in batches: plain rows, decrypted value by value.

Entries come in keyset batches of BATCH rows with their people and emotions, so memory
stays flat however long the diary is. Everything honours the scope (a therapist's export
leaves out private entries).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, tuple_
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import decrypt_value, keys_of
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.models.account import User
from app.models.diary import Entry, EntryEmotion, EntryPerson, FocusArea, FocusAreaPerson, Person
from app.models.therapy import Measure, TherapySession

BATCH = 500


@dataclass(frozen=True, slots=True)
class DiarySource:
    session: Session
    scope: OwnerScope
    occurred: TimeRange

    @property
    def keys(self) -> KeyRing:
        return keys_of(self.session)

    def _plain(self, model: type[Any], field: str, row_id: uuid.UUID, stored: Any) -> Any:
        return decrypt_value(self.keys, model, field, self.scope.owner_id, row_id, stored)

    def account(self) -> dict[str, Any]:
        user = self.session.execute(
            select(col(User.id), col(User.email), col(User.display_name), col(User.timezone)).where(
                col(User.id) == self.scope.owner_id
            )
        ).one()
        account = {
            "id": str(user.id),
            "display_name": self._plain(User, "display_name", user.id, user.display_name),
            "timezone": user.timezone,
        }
        if self.scope.include_private:  # the client's own export; a therapist never sees it
            account["email"] = user.email
        return account

    def people(self) -> Iterator[dict[str, Any]]:
        for row in self.session.execute(
            select(Person.__table__).where(*self.scope.conditions(Person)).order_by(col(Person.id))  # type: ignore[attr-defined]
        ):
            person = dict(row._mapping)
            person["name"] = self._plain(Person, "name", row.id, row.name)
            person["notes"] = self._plain(Person, "notes", row.id, row.notes)
            yield _public(person)

    def focus_areas(self) -> Iterator[dict[str, Any]]:
        linked: dict[uuid.UUID, list[str]] = defaultdict(list)
        for focus_area_id, person_id in self.session.execute(
            select(col(FocusAreaPerson.focus_area_id), col(FocusAreaPerson.person_id))
            .where(*self.scope.conditions(FocusAreaPerson))
            .order_by(col(FocusAreaPerson.person_id))
        ):
            linked[focus_area_id].append(str(person_id))
        for row in self.session.execute(
            select(FocusArea.__table__)  # type: ignore[attr-defined]
            .where(*self.scope.conditions(FocusArea))
            .order_by(col(FocusArea.id))
        ):
            area = dict(row._mapping)
            for field in ("title", "description", "goals", "from_role", "to_role"):
                area[field] = self._plain(FocusArea, field, row.id, area[field])
            area["person_ids"] = linked[row.id]
            yield _public(area)

    def sessions(self) -> Iterator[dict[str, Any]]:
        for row in self.session.execute(
            select(TherapySession.__table__)  # type: ignore[attr-defined]
            .where(*self.scope.conditions(TherapySession))
            .order_by(col(TherapySession.held_at), col(TherapySession.id))
        ):
            therapy_session = dict(row._mapping)
            therapy_session["notes"] = self._plain(TherapySession, "notes", row.id, row.notes)
            yield _public(therapy_session)

    def measures(self) -> Iterator[dict[str, Any]]:
        for row in self.session.execute(
            select(Measure.__table__)  # type: ignore[attr-defined]
            .where(*self.scope.conditions(Measure))
            .order_by(col(Measure.completed_at), col(Measure.id))
        ):
            yield _public(dict(row._mapping))

    def entry_batches(self) -> Iterator[list[dict[str, Any]]]:
        """Entries oldest first, BATCH at a time, each with its people and emotions."""
        entries = Entry.__table__  # type: ignore[attr-defined]
        key = tuple_(entries.c.occurred_at, entries.c.id)
        after: tuple[Any, Any] | None = None
        while True:
            query = select(entries).where(
                *self.scope.conditions(Entry), *self.occurred.conditions(entries.c.occurred_at)
            )
            if after is not None:
                query = query.where(key > tuple_(*after))
            rows = self.session.execute(
                query.order_by(entries.c.occurred_at, entries.c.id).limit(BATCH)
            ).all()
            if not rows:
                return
            yield self._entries(rows)
            after = (rows[-1].occurred_at, rows[-1].id)

    def _entries(self, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
        ids = [row.id for row in rows]
        people: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        for entry_id, person_id, quality in self.session.execute(
            select(col(EntryPerson.entry_id), col(EntryPerson.person_id), col(EntryPerson.quality))
            .where(*self.scope.conditions(EntryPerson), col(EntryPerson.entry_id).in_(ids))
            .order_by(col(EntryPerson.person_id))
        ):
            people[entry_id].append({"person_id": str(person_id), "quality": quality})
        emotions: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        for entry_id, label, intensity, person_id, custom in self.session.execute(
            select(
                col(EntryEmotion.entry_id),
                col(EntryEmotion.label),
                col(EntryEmotion.intensity),
                col(EntryEmotion.person_id),
                col(EntryEmotion.custom),
            )
            .where(*self.scope.conditions(EntryEmotion), col(EntryEmotion.entry_id).in_(ids))
            .order_by(col(EntryEmotion.entry_id), col(EntryEmotion.position))
        ):
            emotions[entry_id].append(
                {
                    "label": label,
                    "intensity": intensity,
                    "person_id": str(person_id) if person_id else None,
                    "custom": custom,
                }
            )
        batch = []
        for row in rows:
            entry = dict(row._mapping)
            for field in ("event", "communication", "tags"):
                entry[field] = self._plain(Entry, field, row.id, entry[field])
            entry["people"] = people[row.id]
            entry["emotions"] = emotions[row.id]
            batch.append(_public(entry))
        return batch


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as exported: no owner, no internal bookkeeping."""
    row.pop("owner_id", None)
    return row
