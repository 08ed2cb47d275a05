"""Which fields are encrypted at rest, and the ORM hooks that do it.

Services and routes only ever see plaintext: a row is encrypted just before it is written
and its plaintext put back right after, and decrypted as it is loaded. Values read with
plain SQL (summaries select a name or a title) go through `decrypt_column`.
Mood, emotion labels, qualities and times stay in the clear: the summaries aggregate them.

`ENCRYPTED_FIELDS` is the one list of what is stored encrypted: the hooks encrypt what it
names, and key rotation (app.core.key_rotation) re-encrypts exactly that.
"""

import json
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import LargeBinary, event
from sqlalchemy.orm import Mapper, Session, attributes, object_session

from app.core.crypto import KeyRing
from app.models.access import AuditEvent
from app.models.account import User
from app.models.diary import Entry, FocusArea, Person
from app.models.sync import IdempotencyRecord
from app.models.therapy import TherapySession

ENCRYPTED_FIELDS: dict[type[Any], tuple[str, ...]] = {
    User: ("display_name",),
    Person: ("name", "notes"),
    FocusArea: ("title", "description", "goals", "from_role", "to_role"),
    Entry: ("event", "communication", "tags"),
    TherapySession: ("notes",),
    AuditEvent: ("therapist_name",),
    # A POST's stored answer repeats the diary text it wrote (bytes: the response body).
    IdempotencyRecord: ("body",),
}
JSON_FIELDS = frozenset({"goals", "communication", "tags"})


def _identity_of(model: type[Any]) -> tuple[str, str]:
    keys = [column.name for column in model.__table__.primary_key]
    rest = [name for name in keys if name != "owner_id"]
    if len(rest) != 1:
        raise TypeError(f"{model.__tablename__}: an encrypted row needs one key besides owner_id")
    return ("owner_id" if "owner_id" in keys else rest[0]), rest[0]


# The columns that name a value's owner and row in its associated data, from the primary
# key: (owner_id, id) for diary rows, (id, id) for users, (owner_id, key) for idempotency.
IDENTITY: dict[type[Any], tuple[str, str]] = {
    model: _identity_of(model) for model in ENCRYPTED_FIELDS
}
# Columns stored as bytes: the ciphertext is kept as its ASCII bytes, the plaintext is bytes.
BINARY_FIELDS = frozenset(
    (model, field)
    for model, fields in ENCRYPTED_FIELDS.items()
    for field in fields
    if isinstance(model.__table__.c[field].type, LargeBinary)
)

_pending: dict[int, dict[str, Any]] = {}  # plaintext of rows being written, by id(row)
KEYS = "keys"  # where a Session carries its app's key ring: Session(info={KEYS: ...})


def keys_of(session: Session | None) -> KeyRing:
    if session is None or KEYS not in session.info:
        raise RuntimeError("an encrypted row was used outside a session that carries keys")
    keys: KeyRing = session.info[KEYS]
    return keys


def _associated_prefix(model: type[Any], field: str, owner_id: Any) -> str:
    return f"{model.__tablename__}.{field}|{owner_id}|"


def associated_data(model: type[Any], field: str, owner_id: Any, row_id: Any) -> bytes:
    """What a value is bound to: its table, column, owner and row (`IDENTITY`)."""
    return f"{_associated_prefix(model, field, owner_id)}{row_id}".encode()


def _owner_and_id(row: Any) -> tuple[Any, Any]:
    owner, key = IDENTITY[type(row)]
    return getattr(row, owner), getattr(row, key)


def encrypt_value(
    keys: KeyRing, model: type[Any], field: str, owner_id: Any, row_id: Any, value: Any
) -> str | bytes:
    """The stored form of `value`: text, or its ASCII bytes for a binary column."""
    if field in JSON_FIELDS:
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = value.decode() if isinstance(value, bytes) else value
    sealed = keys.encrypt(text, associated_data(model, field, owner_id, row_id))
    return sealed.encode() if (model, field) in BINARY_FIELDS else sealed


def decrypt_value(
    keys: KeyRing, model: type[Any], field: str, owner_id: Any, row_id: Any, stored: Any
) -> Any:
    if stored is None:
        return None
    associated = associated_data(model, field, owner_id, row_id)
    if (model, field) in BINARY_FIELDS:
        return keys.decrypt(bytes(stored).decode(), associated).encode()
    text = keys.decrypt(stored, associated)
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
        if isinstance(stored, str | bytes):
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
