"""The diary, read for export: plain rows decrypted value by value, and the entries as the
API shows them (app/entries/projection.py).

Entries come in keyset batches of BATCH rows with their people and emotions, so memory
stays flat however long the diary is. Everything honours the scope (a therapist's export
leaves out private entries).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import decrypt_value, keys_of
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.entries.projection import EntryWriter, entry_key, entry_rows
from app.models.account import User
from app.models.diary import Entry, FocusArea, FocusAreaPerson, Person
from app.models.reminders import Reminder
from app.models.therapy import Measure, TherapySession

BATCH = 500  # entries per query and per streamed chunk (250 to 2,000 measured the same)


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

    def reminders(self) -> Iterator[dict[str, Any]]:
        if not self.scope.include_private:  # the client's own schedule: a therapist sees none
            return
        for row in self.session.execute(
            select(Reminder.__table__)  # type: ignore[attr-defined]
            .where(*self.scope.conditions(Reminder))
            .order_by(col(Reminder.created_at), col(Reminder.id))
        ):
            yield _public(dict(row._mapping))

    def entry_batches(self) -> Iterator[list[dict[str, Any]]]:
        """Entries oldest first, BATCH at a time, each as the API shows it, parsed."""
        writer = EntryWriter(self.session, self.scope)
        for rows in self._entry_rows():
            yield [writer.fields(row) for row in rows]

    def entry_json_batches(self) -> Iterator[bytes]:
        """The same entries as the API writes them, BATCH at a time: the batch's objects
        separated by commas."""
        writer = EntryWriter(self.session, self.scope)
        for rows in self._entry_rows():
            yield b",".join(writer.json(row) for row in rows)

    def _entry_rows(self) -> Iterator[Sequence[Any]]:
        """The scope's entries in the range, oldest first, in keyset batches of BATCH rows."""
        key = (col(Entry.occurred_at), col(Entry.id))
        statement = (
            entry_rows(self.scope)
            .where(*self.occurred.conditions(col(Entry.occurred_at)))
            .order_by(*key)
            .limit(BATCH)
        )
        # Core rows from the session's connection: nothing here needs the ORM.
        connection = self.session.connection()
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            batch = statement if after is None else statement.where(tuple_(*key) > tuple_(*after))
            rows = connection.execute(batch).all()
            if not rows:
                return
            yield rows
            after = entry_key(rows[-1])


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as exported: no owner, no internal bookkeeping."""
    row.pop("owner_id", None)
    return row
