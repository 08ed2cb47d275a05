"""The diary, read for export in batches: plain rows, decrypted value by value.

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

import orjson
from sqlalchemy import ColumnElement, Connection, String, and_, cast, select, tuple_
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import decrypt_value, keys_of
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.models.account import User
from app.models.diary import Entry, EntryEmotion, EntryPerson, FocusArea, FocusAreaPerson, Person
from app.models.therapy import Measure, TherapySession

BATCH = 500  # entries per query and per streamed chunk (2,000 measured no faster)
EntryLists = dict[str, list[dict[str, Any]]]  # people or emotions by their entry's id as read


def _id_text(column: Mapped[Any]) -> ColumnElement[str]:
    """An id column read as text: the entries make no uuid.UUID per value only for it to be
    printed again."""
    return cast(column, String)


def _canonical(id_text: str) -> str:
    """An id as the export writes it. SQLite holds a Uuid as 32 hex digits; PostgreSQL's
    uuid reads as the hyphenated text already."""
    if len(id_text) == 36:
        return id_text
    return f"{id_text[:8]}-{id_text[8:12]}-{id_text[12:16]}-{id_text[16:20]}-{id_text[20:]}"


def _stored_json(text: str | None) -> Any:
    """What a JSON column holds (for an encrypted field, its ciphertext as a JSON string),
    read from its text with orjson rather than by the column type's json.loads."""
    return None if text is None else orjson.loads(text)


def _same_entry(link: type[EntryPerson] | type[EntryEmotion]) -> ColumnElement[bool]:
    return and_(col(Entry.owner_id) == col(link.owner_id), col(Entry.id) == col(link.entry_id))


# The entry queries, built once; each batch adds its conditions. What an entry's export
# needs, owner_id aside (the scope knows it), with ids and JSON as text.
ENTRY_KEY = (col(Entry.occurred_at), col(Entry.id))
ENTRIES = (
    select(
        col(Entry.created_at),
        col(Entry.updated_at),
        col(Entry.version),
        col(Entry.occurred_at),
        col(Entry.mood),
        col(Entry.event),
        col(Entry.event_type),
        _id_text(col(Entry.focus_area_id)),
        col(Entry.private),
        cast(col(Entry.tags), String),
        _id_text(col(Entry.id)).label("id"),
        cast(col(Entry.communication), String),
    )
    .order_by(*ENTRY_KEY)
    .limit(BATCH)
)
# A batch's people and emotions are joined to its entries (an IN list of their ids would be
# parsed anew by psycopg for every batch) and read in the entries' order, so that the
# entries' index drives the join on SQLite too.
ENTRY_PEOPLE = (
    select(
        _id_text(col(EntryPerson.entry_id)),
        _id_text(col(EntryPerson.person_id)),
        col(EntryPerson.quality),
    )
    .join_from(EntryPerson, Entry, _same_entry(EntryPerson))
    .order_by(*ENTRY_KEY, col(EntryPerson.person_id))
)
ENTRY_EMOTIONS = (
    select(
        _id_text(col(EntryEmotion.entry_id)),
        col(EntryEmotion.label),
        col(EntryEmotion.intensity),
        _id_text(col(EntryEmotion.person_id)),
        col(EntryEmotion.custom),
    )
    .join_from(EntryEmotion, Entry, _same_entry(EntryEmotion))
    .order_by(*ENTRY_KEY, col(EntryEmotion.position))
)


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
        """Entries oldest first, BATCH at a time, each with its people and emotions; ids as
        text, as the export writes them."""
        # Core rows from the session's connection: plain columns need none of the ORM's
        # result handling.
        connection = self.session.connection()
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            rows = connection.execute(ENTRIES.where(*self._entries_after(after))).all()
            if not rows:
                return
            last = (rows[-1].occurred_at, uuid.UUID(rows[-1].id))  # bound as its column
            in_batch = [*self._entries_after(after), tuple_(*ENTRY_KEY) <= tuple_(*last)]
            people = self._people(connection, in_batch)
            emotions = self._emotions(connection, in_batch)
            yield self._entries(rows, people, emotions)
            after = last

    def _entries_after(self, after: tuple[datetime, uuid.UUID] | None) -> list[ColumnElement[bool]]:
        """The scope's entries in the time range, past the keyset position `after`."""
        conditions = [
            *self.scope.conditions(Entry),
            *self.occurred.conditions(col(Entry.occurred_at)),
        ]
        if after is not None:
            conditions.append(tuple_(*ENTRY_KEY) > tuple_(*after))
        return conditions

    def _people(self, connection: Connection, in_batch: list[ColumnElement[bool]]) -> EntryLists:
        people: EntryLists = defaultdict(list)
        for entry_id, person_id, quality in connection.execute(
            ENTRY_PEOPLE.where(*self.scope.conditions(EntryPerson), *in_batch)
        ):
            people[entry_id].append({"person_id": _canonical(person_id), "quality": quality})
        return people

    def _emotions(self, connection: Connection, in_batch: list[ColumnElement[bool]]) -> EntryLists:
        emotions: EntryLists = defaultdict(list)
        for entry_id, label, intensity, person_id, custom in connection.execute(
            ENTRY_EMOTIONS.where(*self.scope.conditions(EntryEmotion), *in_batch)
        ):
            emotions[entry_id].append(
                {
                    "label": label,
                    "intensity": intensity,
                    "person_id": _canonical(person_id) if person_id else None,
                    "custom": custom,
                }
            )
        return emotions

    def _entries(
        self, rows: Sequence[Sequence[Any]], people: EntryLists, emotions: EntryLists
    ) -> list[dict[str, Any]]:
        keys = self.keys
        owner_id = str(self.scope.owner_id)  # once; decrypt_value takes ids as text too

        def plain(field: str, entry_id: str, stored: Any) -> Any:
            return decrypt_value(keys, Entry, field, owner_id, entry_id, stored)

        batch = []
        for (
            created_at, updated_at, version, occurred_at, mood, event, event_type,
            focus_area_id, private, tags, stored_id, communication,
        ) in rows:  # fmt: skip
            entry_id = _canonical(stored_id)
            batch.append(
                {  # in the order of the table's columns, as exports always had it
                    "created_at": created_at,
                    "updated_at": updated_at,
                    "version": version,
                    "occurred_at": occurred_at,
                    "mood": mood,
                    "event": plain("event", entry_id, event),
                    "event_type": event_type,
                    "focus_area_id": _canonical(focus_area_id) if focus_area_id else None,
                    "private": private,
                    "tags": plain("tags", entry_id, _stored_json(tags)),
                    "id": entry_id,
                    "communication": plain("communication", entry_id, _stored_json(communication)),
                    "people": people[stored_id],
                    "emotions": emotions[stored_id],
                }
            )
        return batch


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as exported: no owner, no internal bookkeeping."""
    row.pop("owner_id", None)
    return row
