"""Which fields are encrypted at rest, and the ORM hooks that do it.

Services and routes only ever see plaintext: a row is encrypted just before it is written
and its plaintext put back right after, and decrypted as it is loaded. Values read with
plain SQL (summaries select a name or a title) go through `decrypt_column`.
Mood, emotion labels, qualities and times stay in the clear: the summaries aggregate them.
"""

import json
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session, attributes, object_session

from app.core.crypto import KeyRing
from app.models.access import AuditEvent
from app.models.account import User
from app.models.diary import Entry, FocusArea, Person
from app.models.therapy import TherapySession

ENCRYPTED_FIELDS: dict[type[Any], tuple[str, ...]] = {
    User: ("display_name",),
    Person: ("name", "notes"),
    FocusArea: ("title", "description", "goals", "from_role", "to_role"),
    Entry: ("event", "communication", "tags"),
    TherapySession: ("notes",),
    AuditEvent: ("therapist_name",),
}
JSON_FIELDS = frozenset({"goals", "communication", "tags"})

_pending: dict[int, dict[str, Any]] = {}  # plaintext of rows being written, by id(row)
KEYS = "keys"  # where a Session carries its app's key ring: Session(info={KEYS: ...})


def keys_of(session: Session | None) -> KeyRing:
    if session is None or KEYS not in session.info:
        raise RuntimeError("an encrypted row was used outside a session that carries keys")
    keys: KeyRing = session.info[KEYS]
    return keys


def _associated_prefix(model: type[Any], field: str, owner_id: Any) -> str:
    return f"{model.__tablename__}.{field}|{owner_id}|"


def associated_data(model: type[Any], field: str, owner_id: uuid.UUID, row_id: uuid.UUID) -> bytes:
    """What a value is bound to: its table, column, owner and row."""
    return f"{_associated_prefix(model, field, owner_id)}{row_id}".encode()


def _owner_and_id(row: Any) -> tuple[uuid.UUID, uuid.UUID]:
    return getattr(row, "owner_id", row.id), row.id


def encrypt_value(
    keys: KeyRing, model: type[Any], field: str, owner_id: Any, row_id: Any, value: Any
) -> str:
    text = json.dumps(value, ensure_ascii=False) if field in JSON_FIELDS else value
    return keys.encrypt(text, associated_data(model, field, owner_id, row_id))


def decrypt_value(
    keys: KeyRing, model: type[Any], field: str, owner_id: Any, row_id: Any, stored: Any
) -> Any:
    if stored is None:
        return None
    text = keys.decrypt(stored, associated_data(model, field, owner_id, row_id))
    return orjson.loads(text) if field in JSON_FIELDS else text


def column_decryptor(
    keys: KeyRing, model: type[Any], field: str, owner_id: Any, *, as_text: bool = False
) -> Callable[[Any, Any], Any]:
    """`decrypt_value` for one column of one owner's rows, as `plain(row_id, stored)`: the
    associated data's fixed part is formatted once (an export decrypts every row).
    `as_text`: a JSON field's plaintext as the JSON text it is stored as, not parsed."""
    prefix = _associated_prefix(model, field, owner_id)
    decrypt = keys.decrypt

    def plain_text(row_id: Any, stored: Any) -> Any:
        if stored is None:
            return None
        return decrypt(stored, f"{prefix}{row_id}".encode())

    def plain_json(row_id: Any, stored: Any) -> Any:
        if stored is None:
            return None
        return orjson.loads(decrypt(stored, f"{prefix}{row_id}".encode()))

    return plain_json if field in JSON_FIELDS and not as_text else plain_text


def decrypt_column(
    session: Session, model: type[Any], field: str, owner_id: Any, row_id: Any, stored: Any
) -> Any:
    """A value read with plain SQL (not through a loaded row), decrypted."""
    return decrypt_value(keys_of(session), model, field, owner_id, row_id, stored)


def _before_write(_mapper: Mapper[Any], _connection: Any, row: Any, inserting: bool) -> None:
    keys = keys_of(object_session(row))
    owner_id, row_id = _owner_and_id(row)
    plain: dict[str, Any] = {}
    for field in ENCRYPTED_FIELDS[type(row)]:
        value = getattr(row, field)
        if value is None or not (inserting or attributes.get_history(row, field).has_changes()):
            continue
        plain[field] = value
        setattr(row, field, encrypt_value(keys, type(row), field, owner_id, row_id, value))
    _pending[id(row)] = plain


def _before_insert(mapper: Mapper[Any], connection: Any, row: Any) -> None:
    _before_write(mapper, connection, row, inserting=True)


def _before_update(mapper: Mapper[Any], connection: Any, row: Any) -> None:
    _before_write(mapper, connection, row, inserting=False)


def _after_write(_mapper: Mapper[Any], _connection: Any, row: Any) -> None:
    for field, value in _pending.pop(id(row), {}).items():
        attributes.set_committed_value(row, field, value)


def _on_load(row: Any, context: Any, *_args: Any) -> None:
    keys = keys_of(context.session)
    owner_id, row_id = _owner_and_id(row)
    state = attributes.instance_state(row)
    for field in ENCRYPTED_FIELDS[type(row)]:
        if field in state.unloaded:
            continue
        stored = state.dict.get(field)
        if isinstance(stored, str):
            plain = decrypt_value(keys, type(row), field, owner_id, row_id, stored)
            attributes.set_committed_value(row, field, plain)


def install_field_encryption() -> None:
    """Register the hooks once per process; the keys come from each session's info."""
    for model in ENCRYPTED_FIELDS:
        for name, hook in (
            ("before_insert", _before_insert),
            ("before_update", _before_update),
            ("after_insert", _after_write),
            ("after_update", _after_write),
            ("load", _on_load),
            ("refresh", _on_load),
        ):
            if not event.contains(model, name, hook):
                event.listen(model, name, hook)
