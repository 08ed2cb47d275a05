"""The diary, read for export: plain rows decrypted value by value, and the entries as JSON
text written by the database with their free text decrypted into it.

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
from sqlalchemy import ColumnElement, Select, literal_column, select, tuple_
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import decrypt_value, keys_of
from app.core.scoping import OwnerScope
from app.core.timerange import TimeRange
from app.entries.json_text import (
    FreeText,
    postgresql_boolean,
    postgresql_id,
    postgresql_instant,
    splice_free_text,
    sqlite_boolean,
    sqlite_id,
    sqlite_instant,
)
from app.models.account import User
from app.models.diary import Entry, FocusArea, FocusAreaPerson, Person
from app.models.therapy import Measure, TherapySession

BATCH = 500  # entries per query and per streamed chunk (250 to 2,000 measured the same)


# --- entries: each one as JSON text, written by the database --------------------------------
#
# Per entry the database writes its JSON object exactly as orjson writes the export (compact,
# keys in the order of the table's columns, times in UTC with `Z` and a fraction only when
# there is one, ids hyphenated, true/false, strings escaped as orjson escapes them), people and
# emotions included, with null where the free text goes. Python then only decrypts the free
# text and puts it in: the JSON download splices it into the text, CSV and FHIR parse the
# object (orjson, in C). No row, dict or datetime per entry, no queries for people and emotions.
# tests/export/test_entry_text.py checks that the text is what orjson writes.


# SQLite's json_object writes compact JSON. A subquery's value loses its JSON subtype: json()
# marks it as JSON again. SQLite 3.40 has no ORDER BY inside an aggregate; it aggregates an
# ordered subquery in that order.
_SQLITE_ENTRY = f"""json_object(
    'created_at', {sqlite_instant("entries.created_at")},
    'updated_at', {sqlite_instant("entries.updated_at")},
    'version', entries.version,
    'occurred_at', {sqlite_instant("entries.occurred_at")},
    'mood', entries.mood,
    'event', NULL,
    'event_type', entries.event_type,
    'focus_area_id', {sqlite_id("entries.focus_area_id")},
    'private', {sqlite_boolean("entries.private")},
    'tags', NULL,
    'id', {sqlite_id("entries.id")},
    'communication', NULL,
    'people', json((
        SELECT json_group_array(json(person)) FROM (
            SELECT json_object(
                'person_id', {sqlite_id("entry_people.person_id")},
                'quality', entry_people.quality
            ) AS person
            FROM entry_people
            WHERE entry_people.owner_id = entries.owner_id
                AND entry_people.entry_id = entries.id
            ORDER BY entry_people.person_id
        )
    )),
    'emotions', json((
        SELECT json_group_array(json(emotion)) FROM (
            SELECT json_object(
                'label', entry_emotions.label,
                'intensity', entry_emotions.intensity,
                'person_id', {sqlite_id("entry_emotions.person_id")},
                'custom', {sqlite_boolean("entry_emotions.custom")}
            ) AS emotion
            FROM entry_emotions
            WHERE entry_emotions.owner_id = entries.owner_id
                AND entry_emotions.entry_id = entries.id
            ORDER BY entry_emotions.position
        )
    ))
)"""  # noqa: S608 - constant SQL: column names, no values
_SQLITE_ENTRY_ROW = (
    _SQLITE_ENTRY,
    sqlite_id("entries.id"),
    "entries.event",
    "json_extract(entries.tags, '$')",  # a JSON column holds the ciphertext as a JSON string
    "json_extract(entries.communication, '$')",  # or JSON null, read as NULL
)


# PostgreSQL's json functions write spaces (`"key" : value`), so the text is put together
# here; to_json escapes a string as orjson does.
_POSTGRESQL_ENTRY = f"""'{{"created_at":"' || {postgresql_instant("entries.created_at")}
    || '","updated_at":"' || {postgresql_instant("entries.updated_at")}
    || '","version":' || entries.version
    || ',"occurred_at":"' || {postgresql_instant("entries.occurred_at")}
    || '","mood":' || entries.mood
    || ',"event":null,"event_type":' || to_json(entries.event_type)::text
    || ',"focus_area_id":' || {postgresql_id("entries.focus_area_id")}
    || ',"private":' || {postgresql_boolean("entries.private")}
    || ',"tags":null,"id":"' || entries.id
    || '","communication":null,"people":' || coalesce((
        SELECT '[' || string_agg(
            '{{"person_id":"' || entry_people.person_id
            || '","quality":' || coalesce(entry_people.quality::text, 'null') || '}}',
            ',' ORDER BY entry_people.person_id
        ) || ']'
        FROM entry_people
        WHERE entry_people.owner_id = entries.owner_id AND entry_people.entry_id = entries.id
    ), '[]')
    || ',"emotions":' || coalesce((
        SELECT '[' || string_agg(
            '{{"label":' || to_json(entry_emotions.label)::text
            || ',"intensity":' || entry_emotions.intensity
            || ',"person_id":' || {postgresql_id("entry_emotions.person_id")}
            || ',"custom":' || {postgresql_boolean("entry_emotions.custom")} || '}}',
            ',' ORDER BY entry_emotions.position
        ) || ']'
        FROM entry_emotions
        WHERE entry_emotions.owner_id = entries.owner_id AND entry_emotions.entry_id = entries.id
    ), '[]')
    || '}}'"""  # noqa: S608 - constant SQL: column names, no values
_POSTGRESQL_ENTRY_ROW = (
    _POSTGRESQL_ENTRY,
    "entries.id::text",
    "entries.event",
    "entries.tags #>> '{}'",
    "entries.communication #>> '{}'",
)


def _entries_statement(columns: tuple[str, ...]) -> Select[*tuple[Any, ...]]:
    """An entry's JSON text, its id and its three ciphertexts, in the export's order."""
    return (
        select(*(literal_column(column) for column in columns))
        .select_from(Entry)
        .order_by(*ENTRY_KEY)
        .limit(BATCH)
    )


ENTRY_KEY = (col(Entry.occurred_at), col(Entry.id))
ENTRIES = {
    "sqlite": _entries_statement(_SQLITE_ENTRY_ROW),
    "postgresql": _entries_statement(_POSTGRESQL_ENTRY_ROW),
}
EntryRow = tuple[str, str, str, str | None, str | None]  # JSON, id, ciphertexts


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
        """Entries oldest first, BATCH at a time, each with its people and emotions, as the
        JSON download has them: ids as text, times as text (`…Z`)."""
        plain = FreeText(self.keys, self.scope.owner_id)
        for rows in self._entry_rows():
            batch = []
            for text, entry_id, event, tags, communication in rows:
                entry = orjson.loads(text)
                entry["event"] = plain.event(entry_id, event)
                entry["tags"] = plain.tags(entry_id, tags)
                if communication is not None:
                    entry["communication"] = plain.communication(entry_id, communication)
                batch.append(entry)
            yield batch

    def entry_json_batches(self) -> Iterator[bytes]:
        """The same entries as JSON, BATCH at a time: the batch's objects separated by
        commas, exactly as orjson writes the dicts of `entry_batches`."""
        plain = FreeText(self.keys, self.scope.owner_id)
        for rows in self._entry_rows():
            entries = [
                splice_free_text(
                    text,
                    plain.event(entry_id, event),
                    plain.tags(entry_id, tags),
                    plain.communication(entry_id, communication),
                )
                for text, entry_id, event, tags, communication in rows
            ]
            yield b",".join(entries)

    def _entry_rows(self) -> Iterator[Sequence[EntryRow]]:
        """The scope's entries in the range, oldest first, in keyset batches of BATCH rows."""
        # Core rows from the session's connection: nothing here needs the ORM.
        connection = self.session.connection()
        statement = ENTRIES[connection.dialect.name]
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            rows: Sequence[Any] = connection.execute(
                statement.where(*self._entries_after(after))
            ).all()
            if not rows:
                return
            yield rows
            last = orjson.loads(rows[-1][0])  # bound as its columns are
            after = (datetime.fromisoformat(last["occurred_at"]), uuid.UUID(last["id"]))

    def _entries_after(self, after: tuple[datetime, uuid.UUID] | None) -> list[ColumnElement[bool]]:
        """The scope's entries in the time range, past the keyset position `after`."""
        conditions = [
            *self.scope.conditions(Entry),
            *self.occurred.conditions(col(Entry.occurred_at)),
        ]
        if after is not None:
            conditions.append(tuple_(*ENTRY_KEY) > tuple_(*after))
        return conditions


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as exported: no owner, no internal bookkeeping."""
    row.pop("owner_id", None)
    return row
