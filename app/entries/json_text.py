"""Entries as JSON text written by the database.

The client's entry routes answer with bytes the database wrote, and the export writes its
entries the same way: per entry its JSON object exactly as pydantic (and orjson) write it,
people and emotions included, with null where the free text goes. Python only decrypts the
free text and splices it in: no row conversion, dict, datetime or model per entry.
tests/entries/test_entry_json.py and tests/export/test_entry_text.py check the bytes
against the serializers'.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Select, bindparam, func, literal_column, select
from sqlmodel import Session, col

from app.core.crypto import KeyRing
from app.core.field_encryption import column_decryptor, keys_of
from app.core.scoping import OwnerScope
from app.entries.reads import ENTRY_ID_PARAMETER, json_key
from app.entries.schemas import Communication
from app.models.diary import Entry, EntryEmotion, EntryPerson

# The routes that read entries answer with bytes the database wrote (as the export does,
# app/export/source.py): per entry its JSON object exactly as pydantic serializes EntryPublic
# (keys in the model's order, times in UTC with `Z` and six digits of fraction only when there
# is one, ids hyphenated, true/false, strings escaped as pydantic escapes them, `"safety":null`),
# people and emotions included, with null where the free text goes. Python only decrypts the
# free text and splices it in: no row conversion, dict, datetime or model per entry.
# tests/entries/test_entry_json.py checks the bytes against EntryPublic serialized by pydantic.

# Where the free text goes: the first of each in the object, since what comes before it is
# never a free text (times, numbers, ids, enum values, booleans) and a JSON string cannot hold
# an unescaped quote.
EVENT_SLOT, TAGS_SLOT, COMMUNICATION_SLOT = b'"event":null', b'"tags":null', b'"communication":null'
COMMUNICATION_KEYS = tuple(Communication.model_fields)


@dataclass(slots=True)
class EntryJson:
    """An entry as the API writes it (EntryPublic's JSON), and its version for the ETag."""

    body: bytes
    version: int


def sqlite_instant(column: str) -> str:
    """SQLAlchemy's SQLite text (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) as pydantic writes the
    aware datetime (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`)."""
    return (
        f"substr({column}, 1, 10) || 'T' || CASE WHEN substr({column}, 20) IN ('', '.000000') "
        f"THEN substr({column}, 12, 8) ELSE substr({column}, 12) END || 'Z'"
    )


def sqlite_id(column: str) -> str:
    """A Uuid column on SQLite (32 hex digits) in its hyphenated form (NULL stays NULL)."""
    return (
        f"substr({column}, 1, 8) || '-' || substr({column}, 9, 4) || '-' || "
        f"substr({column}, 13, 4) || '-' || substr({column}, 17, 4) || '-' || substr({column}, 21)"
    )


def sqlite_boolean(column: str) -> str:
    return f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"


def _sqlite_array(item: str, model: type[Any], order: Any, scope: OwnerScope) -> ColumnElement[Any]:
    """The entry's rows of `model` as a JSON array of `item`, in `order`. SQLite 3.40 has no
    ORDER BY inside an aggregate: it aggregates an ordered subquery in that order."""
    items = (
        select(literal_column(item).label("item"))
        .select_from(model)
        .where(*scope.conditions(model), col(model.entry_id) == col(Entry.id))
        .order_by(order)
        .correlate(Entry)
        .subquery()
    )
    array: Select[Any] = select(literal_column("json_group_array(json(item))")).select_from(items)
    return func.json(array.scalar_subquery())  # json(): a subquery's value loses its subtype


def _sqlite_entry(scope: OwnerScope) -> ColumnElement[Any]:
    person = (
        f"json_object('person_id', {sqlite_id('entry_people.person_id')}, "
        "'quality', entry_people.quality)"
    )
    emotion = (
        "json_object('label', entry_emotions.label, 'intensity', entry_emotions.intensity, "
        f"'person_id', {sqlite_id('entry_emotions.person_id')}, "
        f"'custom', {sqlite_boolean('entry_emotions.custom')})"
    )
    values: list[tuple[str, Any]] = [
        ("occurred_at", literal_column(sqlite_instant("entries.occurred_at"))),
        ("mood", literal_column("entries.mood")),
        ("event", literal_column("NULL")),
        ("event_type", literal_column("entries.event_type")),
        ("focus_area_id", literal_column(sqlite_id("entries.focus_area_id"))),
        ("private", literal_column(sqlite_boolean("entries.private"))),
        ("tags", literal_column("NULL")),
        ("id", literal_column(sqlite_id("entries.id"))),
        ("people", _sqlite_array(person, EntryPerson, col(EntryPerson.person_id), scope)),
        ("emotions", _sqlite_array(emotion, EntryEmotion, col(EntryEmotion.position), scope)),
        ("communication", literal_column("NULL")),
        ("created_at", literal_column(sqlite_instant("entries.created_at"))),
        ("updated_at", literal_column(sqlite_instant("entries.updated_at"))),
        ("version", literal_column("entries.version")),
        ("safety", literal_column("NULL")),
    ]
    return func.json_object(*(part for key, value in values for part in (json_key(key), value)))


def postgresql_instant(column: str) -> str:
    return (
        f"to_char({column} AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {column}) = "
        f"""{column} THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)"""
    )


def postgresql_id(column: str) -> str:
    return f"""coalesce('"' || {column} || '"', 'null')"""


def postgresql_boolean(column: str) -> str:
    return f"CASE WHEN {column} THEN 'true' ELSE 'false' END"


def _postgresql_array(
    item: str, model: type[Any], order: str, scope: OwnerScope
) -> ColumnElement[Any]:
    """The entry's rows of `model` as a JSON array of `item`, in `order` (`[]` for none)."""
    array: Select[Any] = (
        select(literal_column(f"'[' || string_agg({item}, ',' ORDER BY {order}) || ']'"))
        .select_from(model)
        .where(*scope.conditions(model), col(model.entry_id) == col(Entry.id))
        .correlate(Entry)
    )
    return func.coalesce(array.scalar_subquery(), literal_column("'[]'"))


# PostgreSQL's JSON functions write spaces (`"key" : value`), so the text is put together
# here; to_json escapes a string as pydantic does.
_POSTGRESQL_HEAD = f"""'{{"occurred_at":"' || {postgresql_instant("entries.occurred_at")}
    || '","mood":' || entries.mood
    || ',"event":null,"event_type":' || to_json(entries.event_type)::text
    || ',"focus_area_id":' || {postgresql_id("entries.focus_area_id")}
    || ',"private":' || {postgresql_boolean("entries.private")}
    || ',"tags":null,"id":"' || entries.id || '","people":'"""
_POSTGRESQL_PERSON = """'{"person_id":"' || entry_people.person_id
    || '","quality":' || coalesce(entry_people.quality::text, 'null') || '}'"""
_POSTGRESQL_EMOTION = f"""'{{"label":' || to_json(entry_emotions.label)::text
    || ',"intensity":' || entry_emotions.intensity
    || ',"person_id":' || {postgresql_id("entry_emotions.person_id")}
    || ',"custom":' || {postgresql_boolean("entry_emotions.custom")} || '}}'"""
_POSTGRESQL_TAIL = f"""',"communication":null,"created_at":"'
    || {postgresql_instant("entries.created_at")}
    || '","updated_at":"' || {postgresql_instant("entries.updated_at")}
    || '","version":' || entries.version || ',"safety":null}}'"""


def _postgresql_entry(scope: OwnerScope) -> ColumnElement[Any]:
    return func.concat(
        literal_column(_POSTGRESQL_HEAD),
        _postgresql_array(_POSTGRESQL_PERSON, EntryPerson, "entry_people.person_id", scope),
        literal_column("""',"emotions":'"""),
        _postgresql_array(_POSTGRESQL_EMOTION, EntryEmotion, "entry_emotions.position", scope),
        literal_column(_POSTGRESQL_TAIL),
    )


# The entry's JSON text, then its id as text and its three ciphertexts (JSON columns hold the
# ciphertext as a JSON string, or JSON null: read as NULL), then its version for the ETag.
_JSON_ROWS: dict[str, tuple[Callable[[OwnerScope], ColumnElement[Any]], tuple[str, ...]]] = {
    "sqlite": (
        _sqlite_entry,
        (
            sqlite_id("entries.id"),
            "entries.event",
            "json_extract(entries.tags, '$')",
            "json_extract(entries.communication, '$')",
            "entries.version",
        ),
    ),
    "postgresql": (
        _postgresql_entry,
        (
            "entries.id::text",
            "entries.event",
            "entries.tags #>> '{}'",
            "entries.communication #>> '{}'",
            "entries.version",
        ),
    ),
}
JSON_DIALECTS = tuple(_JSON_ROWS)


def select_json(dialect: str, scope: OwnerScope) -> Select[Any]:
    """Entries the scope may see, each as the row `json_entries` turns into the API's JSON."""
    entry, columns = _JSON_ROWS[dialect]
    return (
        select(entry(scope), *(literal_column(column) for column in columns))
        .select_from(Entry)
        .where(*scope.conditions(Entry))
    )


def _json_by_id(dialect: str, scope: OwnerScope) -> Select[Any]:
    return select_json(dialect, scope).where(col(Entry.id) == bindparam(ENTRY_ID_PARAMETER))


_JSON_BY_ID = {dialect: partial(_json_by_id, dialect) for dialect in JSON_DIALECTS}


class FreeText:
    """Decrypters of one owner's entries' free text: `event(entry_id, stored)` and so on."""

    __slots__ = ("communication", "event", "tags")

    def __init__(self, keys: KeyRing, owner_id: uuid.UUID) -> None:
        self.event = column_decryptor(keys, Entry, "event", owner_id)
        self.tags = column_decryptor(keys, Entry, "tags", owner_id)
        self.communication = column_decryptor(keys, Entry, "communication", owner_id)


def splice_free_text(text: str, event: Any, tags: Any, communication: Any) -> bytes:
    """The JSON text the database wrote, with the free text written into its null slots."""
    before_event, _, rest = text.encode().partition(EVENT_SLOT)
    before_tags, _, rest = rest.partition(TAGS_SLOT)
    before_communication, _, rest = rest.partition(COMMUNICATION_SLOT)
    return b'%s"event":%s%s"tags":%s%s"communication":%s%s' % (
        before_event,
        orjson.dumps(event),
        before_tags,
        orjson.dumps(tags),
        before_communication,
        orjson.dumps(communication),
        rest,
    )


def _api_entry(plain: FreeText, row: Sequence[Any]) -> bytes:
    """A row of `select_json` as EntryPublic's JSON."""
    text, entry_id, event, tags, communication, _version = row
    if communication is not None:
        stored = plain.communication(entry_id, communication)
        # EntryPublic writes every key, in the model's order, whatever was stored
        communication = {key: stored.get(key) for key in COMMUNICATION_KEYS}
    return splice_free_text(
        text, plain.event(entry_id, event), plain.tags(entry_id, tags), communication
    )


def json_entries(session: Session, scope: OwnerScope, rows: Sequence[Row[Any]]) -> list[bytes]:
    """Rows of `select_json` as the API writes them, each EntryPublic's JSON."""
    plain = FreeText(keys_of(session), scope.owner_id)
    return [_api_entry(plain, row) for row in rows]


def json_by_id(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> EntryJson | None:
    """The entry as the API writes it, if the scope may see it."""
    connection = session.connection()
    stmt, params = scope.prepared(_JSON_BY_ID[connection.dialect.name])
    row = connection.execute(stmt, {**params, ENTRY_ID_PARAMETER: entry_id}).first()
    if row is None:
        return None
    return EntryJson(json_entries(session, scope, [row])[0], row[-1])
