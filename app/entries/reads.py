"""Entries as the API shows them, each read in one statement with its people and emotions.

Reads select columns, not ORM entities: an entry's people and emotions come aggregated as
JSON in the same statement, and the response models are built from values the database
already checked. That is one round trip per read and no identity map, load events or
re-validation, which is most of what a read costs (bench/ANALYSIS.md). Free text is
decrypted here, as the ORM load hook would do it.

These give EntryPublic models (sync, the therapist's list); the client's own entry routes
answer with JSON the database writes instead (app.entries.json_text).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, Row, Select, bindparam, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from app.core.field_encryption import ENCRYPTED_FIELDS, decrypt_value, keys_of
from app.core.scoping import OwnerScope
from app.entries.schemas import EntryPublic
from app.models.diary import Entry, EntryEmotion, EntryPerson


class JsonObjects(FunctionElement[Any]):
    """Aggregate: a JSON array of one object per row, from alternating keys and values."""

    type = JSON()
    inherit_cache = True


@compiles(JsonObjects, "postgresql")
def _json_objects_postgresql(element: JsonObjects, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_object({compiler.process(element.clauses, **kw)}))"


@compiles(JsonObjects, "sqlite")
def _json_objects_sqlite(element: JsonObjects, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_object({compiler.process(element.clauses, **kw)}))"


def json_key(name: str) -> ColumnElement[str]:
    return literal_column(f"'{name}'")


def _children(scope: OwnerScope) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The entry's people and emotions as JSON arrays of objects whose keys are the public
    fields' names, correlated to the entries row of the outer select."""
    people = (
        select(
            JsonObjects(
                json_key("person_id"),
                EntryPerson.person_id,
                json_key("quality"),
                EntryPerson.quality,
            )
        )
        .where(*scope.conditions(EntryPerson), col(EntryPerson.entry_id) == col(Entry.id))
        .scalar_subquery()
    )
    emotions = (
        select(
            JsonObjects(
                json_key("position"),
                EntryEmotion.position,
                json_key("label"),
                EntryEmotion.label,
                json_key("intensity"),
                EntryEmotion.intensity,
                json_key("person_id"),
                EntryEmotion.person_id,
                json_key("custom"),
                EntryEmotion.custom,
            )
        )
        .where(*scope.conditions(EntryEmotion), col(EntryEmotion.entry_id) == col(Entry.id))
        .scalar_subquery()
    )
    return people.label("people"), emotions.label("emotions")


ENCRYPTED = ENCRYPTED_FIELDS[Entry]
# The entry's own fields in EntryPublic; people, emotions and communication are built.
ENTRY_FIELDS = (
    "id",
    "occurred_at",
    "mood",
    "event",
    "event_type",
    "focus_area_id",
    "private",
    "tags",
    "created_at",
    "updated_at",
    "version",
)
_COLUMNS = (*(getattr(Entry, name) for name in ENTRY_FIELDS), Entry.communication)


ENTRY_ID_PARAMETER, _IDS = "entry_id", "entry_ids"


def select_entries(scope: OwnerScope) -> Select[Any]:
    """Entries the scope may see, with every column `public` needs."""
    return select(*_COLUMNS, *_children(scope)).where(*scope.conditions(Entry))


def _by_person(person: dict[str, Any]) -> str:
    return str(person["person_id"])


def _by_position(emotion: dict[str, Any]) -> int:
    return int(emotion["position"])


def public(session: Session, scope: OwnerScope, rows: Sequence[Row[Any]]) -> list[EntryPublic]:
    """Rows of `select_entries` as the API shows them.

    Validated from plain values in pydantic's core, nested lists included: cheaper than
    building each nested model in Python. The JSON children need no conversion: a UUID's
    hex and SQLite's 0/1 booleans validate as they are.
    """
    keys = keys_of(session)
    owner_id = str(scope.owner_id)  # formatted once, not per field
    entries = []
    for row in rows:
        fields = row._asdict()
        row_id = str(row.id)
        for name in ENCRYPTED:
            fields[name] = decrypt_value(keys, Entry, name, owner_id, row_id, fields[name])
        fields["people"] = sorted(fields["people"] or (), key=_by_person)
        fields["emotions"] = sorted(fields["emotions"] or (), key=_by_position)
        entries.append(EntryPublic.model_validate(fields))
    return entries


def _entry_by_id(scope: OwnerScope) -> Select[Any]:
    return select_entries(scope).where(col(Entry.id) == bindparam(ENTRY_ID_PARAMETER))


def by_id(session: Session, scope: OwnerScope, entry_id: uuid.UUID) -> EntryPublic | None:
    """The entry, if the scope may see it (an `IN` list would be rendered on every call)."""
    stmt, params = scope.prepared(_entry_by_id)
    row = session.connection().execute(stmt, {**params, ENTRY_ID_PARAMETER: entry_id}).first()
    return None if row is None else public(session, scope, [row])[0]


def _entries_by_ids(scope: OwnerScope) -> Select[Any]:
    return select_entries(scope).where(col(Entry.id).in_(bindparam(_IDS, expanding=True)))


def by_ids(session: Session, scope: OwnerScope, ids: Sequence[uuid.UUID]) -> list[EntryPublic]:
    """The entries among `ids` the scope may see, in the order of `ids`."""
    if not ids:
        return []
    stmt, params = scope.prepared(_entries_by_ids)
    # On the session's connection: column selects need none of the ORM's execution layer.
    rows = session.connection().execute(stmt, {**params, _IDS: list(ids)}).all()
    position = {entry_id: index for index, entry_id in enumerate(ids)}
    return public(session, scope, sorted(rows, key=lambda row: position[row.id]))
