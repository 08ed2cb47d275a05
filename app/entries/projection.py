"""An entry as the API shows it (`EntryPublic`), written as JSON by the database: the one
place an entry becomes JSON.

The object has EntryPublic's fields in its order. Each is the entry column of the same name,
rendered by its type (ids, instants and booleans by small elements compiled for SQLite and
PostgreSQL); `people` and `emotions` are arrays of their public models' fields; and the
*slots* are null: the free text, stored encrypted, and `safety`, which only a write's
answer carries. Python decrypts the free text and writes it into its slots: no model, dict
or datetime per entry. Adding a field to an entry means the model, the migration and the
schema; the projection picks it up.

The entry reads, the list (the client's and the therapist's), the answers to writes, sync
and the export all read entries as rows of `entry_rows`; tests/entries/test_projection.py checks
them against EntryPublic validated from the ORM.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Select,
    String,
    Uuid,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import ENCRYPTED_FIELDS, JSON_FIELDS, column_decryptor, keys_of
from app.core.scoping import OwnerScope
from app.entries.schemas import Communication, EmotionPublic, EntryPersonPublic, EntryPublic
from app.models.base import UTCDateTime
from app.models.diary import Entry, EntryEmotion, EntryPerson

# --- values as JSON, per database ---------------------------------------------------------


class _Value(FunctionElement[Any]):
    inherit_cache = True

    def _arg(self, compiler: SQLCompiler, **kw: Any) -> str:
        return str(compiler.process(self.clauses, **kw))


class JsonInstant(_Value):
    """A UTC instant as pydantic writes it: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""

    inherit_cache = True

    type = String()


@compiles(JsonInstant, "sqlite")
def _instant_sqlite(element: JsonInstant, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (SQLAlchemy's SQLite DateTime).
    c = element._arg(compiler, **kw)
    return (
        f"substr({c}, 1, 10) || 'T' || CASE WHEN substr({c}, 20) IN ('', '.000000') "
        f"THEN substr({c}, 12, 8) ELSE substr({c}, 12) END || 'Z'"
    )


@compiles(JsonInstant, "postgresql")
def _instant_postgresql(element: JsonInstant, compiler: SQLCompiler, **kw: Any) -> str:
    c = element._arg(compiler, **kw)
    return (
        f"to_char({c} AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {c}) = {c} "
        """THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)"""
    )


class JsonLocalInstant(_Value):
    """`JsonLocalInstant(instant, offset_minutes)`: a UTC instant on the clock of its own
    offset, as pydantic writes an aware datetime (`…+05:30`; `Z` for no offset)."""

    inherit_cache = True
    type = String()

    def _args(self, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
        instant, minutes = self.clauses.clauses
        return str(compiler.process(instant, **kw)), str(compiler.process(minutes, **kw))


def _offset_sql(minutes: str, two_digits: str) -> str:
    """The offset as pydantic writes it: `Z`, or `±HH:MM`."""
    return (
        f"CASE WHEN {minutes} = 0 THEN 'Z' ELSE CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END "
        f"|| {two_digits.format(f'abs({minutes}) / 60')} || ':' "
        f"|| {two_digits.format(f'abs({minutes}) - abs({minutes}) / 60 * 60')} END"
    )


@compiles(JsonLocalInstant, "sqlite")
def _local_instant_sqlite(element: JsonLocalInstant, compiler: SQLCompiler, **kw: Any) -> str:
    c, minutes = element._args(compiler, **kw)
    offset = _offset_sql(minutes, "printf('%02d', {})")
    # The offset is whole minutes: the fraction of the second stays as stored.
    return (
        f"replace(datetime(substr({c}, 1, 19), {minutes} || ' minutes'), ' ', 'T') "
        f"|| CASE WHEN substr({c}, 20) IN ('', '.000000') THEN '' ELSE substr({c}, 20) END "
        f"|| {offset}"
    )


@compiles(JsonLocalInstant, "postgresql")
def _local_instant_postgresql(element: JsonLocalInstant, compiler: SQLCompiler, **kw: Any) -> str:
    c, minutes = element._args(compiler, **kw)
    local = f"({c} AT TIME ZONE 'UTC') + make_interval(mins => {minutes})"
    offset = _offset_sql(minutes, "lpad(({})::text, 2, '0')")
    return (
        f"to_char({local}, CASE WHEN date_trunc('second', {c}) = {c} "
        """THEN 'YYYY-MM-DD"T"HH24:MI:SS' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END) """
        f"|| {offset}"
    )


class IdText(_Value):
    """A Uuid column as the hyphenated text of the id (NULL stays NULL)."""

    inherit_cache = True

    type = String()


@compiles(IdText, "sqlite")
def _id_text_sqlite(element: IdText, compiler: SQLCompiler, **kw: Any) -> str:
    c = element._arg(compiler, **kw)  # 32 hex digits on SQLite
    return (
        f"substr({c}, 1, 8) || '-' || substr({c}, 9, 4) || '-' || substr({c}, 13, 4) || '-' "
        f"|| substr({c}, 17, 4) || '-' || substr({c}, 21)"
    )


@compiles(IdText, "postgresql")
def _id_text_postgresql(element: IdText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({element._arg(compiler, **kw)} AS TEXT)"


class JsonId(_Value):
    """A Uuid column as a JSON value: its hyphenated string, or null."""

    inherit_cache = True


@compiles(JsonId, "sqlite")
def _json_id_sqlite(element: JsonId, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(IdText(*element.clauses), **kw))


@compiles(JsonId, "postgresql")
def _json_id_postgresql(element: JsonId, compiler: SQLCompiler, **kw: Any) -> str:
    return element._arg(compiler, **kw)  # a uuid is a JSON string to json_build_object


class JsonBoolean(_Value):
    """A boolean column as JSON true/false (SQLite stores 0/1)."""

    inherit_cache = True


@compiles(JsonBoolean, "sqlite")
def _boolean_sqlite(element: JsonBoolean, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json(CASE WHEN {element._arg(compiler, **kw)} THEN 'true' ELSE 'false' END)"


@compiles(JsonBoolean, "postgresql")
def _boolean_postgresql(element: JsonBoolean, compiler: SQLCompiler, **kw: Any) -> str:
    return element._arg(compiler, **kw)


class StoredText(_Value):
    """The text a JSON column holds as a JSON string (its ciphertext); NULL for JSON null."""

    inherit_cache = True

    type = String()


@compiles(StoredText, "sqlite")
def _stored_text_sqlite(element: StoredText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({element._arg(compiler, **kw)}, '$')"


@compiles(StoredText, "postgresql")
def _stored_text_postgresql(element: StoredText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element._arg(compiler, **kw)} #>> '{{}}'"


class JsonObject(_Value):
    """A JSON object from alternating keys and values (compact on SQLite; PostgreSQL writes
    `"key" : value`)."""

    inherit_cache = True


@compiles(JsonObject, "sqlite")
def _object_sqlite(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({element._arg(compiler, **kw)})"


@compiles(JsonObject, "postgresql")
def _object_postgresql(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_object({element._arg(compiler, **kw)})"


class JsonText(_Value):
    """A JSON value as text (psycopg would parse a `json` result into Python objects)."""

    inherit_cache = True

    type = String()


@compiles(JsonText, "sqlite")
def _text_sqlite(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return element._arg(compiler, **kw)


@compiles(JsonText, "postgresql")
def _text_postgresql(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({element._arg(compiler, **kw)} AS TEXT)"


class PerDatabase(_Value):
    """`PerDatabase(sqlite_form, postgresql_form)`: where the two need other SQL shapes."""

    inherit_cache = True


@compiles(PerDatabase, "sqlite")
def _per_database_sqlite(element: PerDatabase, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[0], **kw))


@compiles(PerDatabase, "postgresql")
def _per_database_postgresql(element: PerDatabase, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[1], **kw))


# --- the entry -----------------------------------------------------------------------------

FREE_TEXT = ENCRYPTED_FIELDS[Entry]  # event, communication, tags
ANSWER_ONLY = ("safety",)  # set on a write's answer, never stored
SLOTS = tuple(name for name in EntryPublic.model_fields if name in FREE_TEXT + ANSWER_ONLY)
COMMUNICATION_KEYS = tuple(Communication.model_fields)


def _key(name: str) -> ColumnElement[str]:
    return literal_column(f"'{name}'")


def _json_value(table: type[Any], name: str) -> ColumnElement[Any]:
    """The column `name` as JSON, by its type; an instant with a `<name>_offset_minutes`
    column is written on the clock of that offset."""
    column = getattr(table, name)
    kind = column.type
    if isinstance(kind, Uuid):
        return JsonId(column)
    if isinstance(kind, UTCDateTime):
        offset = getattr(table, f"{name}_offset_minutes", None)
        return JsonInstant(column) if offset is None else JsonLocalInstant(column, offset)
    if isinstance(kind, Boolean):
        return JsonBoolean(column)
    return column  # type: ignore[no-any-return]


def _object(model: type[BaseModel], table: type[Any], values: dict[str, Any]) -> JsonObject:
    """`model`'s fields as a JSON object: `values[name]`, else the column of that name."""
    pairs = []
    for name in model.model_fields:
        value = values[name] if name in values else _json_value(table, name)
        pairs += [_key(name), value]
    return JsonObject(*pairs)


def _array(item: JsonObject, model: type[Any], order: Any, scope: OwnerScope) -> PerDatabase:
    """The entry's rows of `model` as a JSON array of `item`, in `order` (`[]` for none)."""
    where = (*scope.conditions(model), col(model.entry_id) == col(Entry.id))
    # SQLite 3.40 has no ORDER BY inside an aggregate: it aggregates an ordered subquery in
    # its order; json() marks the subquery's text as JSON again.
    items = select(item.label("item")).where(*where).order_by(order).correlate(Entry).subquery()
    sqlite_form = func.json(
        select(func.json_group_array(func.json(items.c.item))).scalar_subquery()
    )
    postgresql_form = func.coalesce(
        select(func.json_agg(aggregate_order_by(item, order))).where(*where).scalar_subquery(),
        literal_column("'[]'::json"),
    )
    return PerDatabase(sqlite_form, postgresql_form)


def _entry(scope: OwnerScope) -> JsonText:
    person = _object(EntryPersonPublic, EntryPerson, {})
    emotion = _object(EmotionPublic, EntryEmotion, {})
    values = {
        **{name: null() for name in SLOTS},
        "people": _array(person, EntryPerson, col(EntryPerson.person_id), scope),
        "emotions": _array(emotion, EntryEmotion, col(EntryEmotion.position), scope),
    }
    return JsonText(_object(EntryPublic, Entry, values))


def _ciphertext(name: str) -> ColumnElement[Any]:
    column: ColumnElement[Any] = getattr(Entry, name)
    return StoredText(column) if isinstance(column.type, JSON) else column


def entry_rows(scope: OwnerScope) -> Select[Any]:
    """The entries the scope may see, each as its JSON, its id as text, the ciphertexts of
    its free text (in `FREE_TEXT` order) and its version (for the ETag)."""
    return select(
        _entry(scope),
        IdText(col(Entry.id)),
        *(_ciphertext(name) for name in FREE_TEXT),
        col(Entry.version),
    ).where(*scope.conditions(Entry))


# How each database writes a null slot: SQLite's json_object compactly, PostgreSQL's
# json_build_object with spaces. A key cannot occur inside a string value (its quotes
# would be escaped), so the first match after the previous slot is the slot.
_SLOT_FORMS = {"sqlite": b'"%s":null', "postgresql": b'"%s" : null'}


def version_of(row: Sequence[Any]) -> int:
    return int(row[-1])


class EntryWriter:
    """Turns one owner's rows of `entry_rows` into the API's JSON, decrypting the free text."""

    __slots__ = ("_free_text", "_safety_slot")

    def __init__(self, session: Session, scope: OwnerScope) -> None:
        keys = keys_of(session)
        bind = session.bind or session.get_bind()  # the session's engine, where it has one
        form = _SLOT_FORMS[bind.dialect.name]
        self._free_text = tuple(
            (
                form % name.encode(),
                b'"%s":' % name.encode(),
                _json_of(keys, name, scope.owner_id),
                2 + FREE_TEXT.index(name),  # after the JSON and the id
            )
            for name in SLOTS
            if name in FREE_TEXT
        )
        self._safety_slot = form % b"safety"

    def json(self, row: Sequence[Any], safety: BaseModel | None = None) -> bytes:
        """The row as EntryPublic's JSON, with `safety` on a write's answer."""
        text: bytes = row[0].encode()
        entry_id = row[1]
        parts: list[bytes] = []
        for slot, key, json_of, index in self._free_text:
            before, _, text = text.partition(slot)
            parts.extend((before, key, json_of(entry_id, row[index])))
        if safety is not None:
            before, _, text = text.partition(self._safety_slot)
            parts.extend((before, b'"safety":', safety.model_dump_json().encode()))
        parts.append(text)
        return b"".join(parts)

    def fields(self, row: Sequence[Any]) -> dict[str, Any]:
        """The row as EntryPublic's JSON object, parsed (for the CSV and FHIR exports)."""
        entry: dict[str, Any] = orjson.loads(self.json(row))
        return entry


def _json_of(keys: KeyRing, name: str, owner_id: uuid.UUID) -> Callable[[Any, Any], bytes]:
    """The stored free text `name` of a row as the JSON value EntryPublic has."""
    plain = column_decryptor(keys, Entry, name, owner_id, as_text=True)
    if name == "communication":

        def every_key(row_id: Any, stored: Any) -> bytes:
            # EntryPublic writes every key, in the model's order, whatever was stored.
            text = plain(row_id, stored)
            if text is None:
                return b"null"
            stored_keys = orjson.loads(text)
            return orjson.dumps({key: stored_keys.get(key) for key in COMMUNICATION_KEYS})

        return every_key
    if name in JSON_FIELDS:  # stored as the JSON text it is

        def json_text(row_id: Any, stored: Any) -> bytes:
            text = plain(row_id, stored)
            return b"null" if text is None else text.encode()

        return json_text

    def string(row_id: Any, stored: Any) -> bytes:
        return orjson.dumps(plain(row_id, stored))

    return string


def entry_key(row: Sequence[Any]) -> tuple[datetime, uuid.UUID]:
    """The row's (occurred_at in UTC, as stored, id): the keyset position of the lists and
    the export."""
    entry = orjson.loads(row[0])
    return datetime.fromisoformat(entry["occurred_at"]).astimezone(UTC), uuid.UUID(row[1])
