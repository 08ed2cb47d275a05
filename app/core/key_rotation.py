"""Re-encrypt stored free text: with the active key (rotation), or from legacy plaintext.

Walks every (table, column) of `ENCRYPTED_FIELDS`, the registry the encryption hooks use,
so a column that is encrypted is also rotated. Runs in batches with a compare-and-set
update per value, so it is safe while the service runs: a value a client changed meanwhile
is left as the client wrote it (already encrypted with the active key).
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, select, tuple_, update

from app.core.crypto import VERSION, KeyRing
from app.core.field_encryption import ENCRYPTED_FIELDS, IDENTITY, decrypt_value, encrypt_value

BATCH = 500
Transform = Callable[[type[Any], str, Any, Any, Any], Any]


def _as_text(value: Any) -> Any:
    # A binary column (the idempotency body) holds the ciphertext's ASCII bytes.
    return (
        bytes(value).decode("ascii", "replace") if isinstance(value, bytes | memoryview) else value
    )


def _is_ciphertext(value: Any) -> bool:
    text = _as_text(value)
    return isinstance(text, str) and text.startswith(f"{VERSION}.")


def to_active_key(keys: KeyRing) -> Transform:
    """Encrypt plaintext, and re-encrypt ciphertext made with any other key."""

    def transform(model: type[Any], field: str, owner_id: Any, row_id: Any, value: Any) -> Any:
        if _is_ciphertext(value):
            if keys.key_id_of(_as_text(value)) == keys.active:
                return value
            value = decrypt_value(keys, model, field, owner_id, row_id, value)
        return encrypt_value(keys, model, field, owner_id, row_id, value)

    return transform


def to_plaintext(keys: KeyRing) -> Transform:
    """Undo the encryption (for a schema downgrade)."""

    def transform(model: type[Any], field: str, owner_id: Any, row_id: Any, value: Any) -> Any:
        if not _is_ciphertext(value):
            return value
        return decrypt_value(keys, model, field, owner_id, row_id, value)

    return transform


def rewrite_all(connection: Connection, transform: Transform) -> Counter[str]:
    """Apply `transform` to every encrypted value; returns how many changed per table."""
    changed: Counter[str] = Counter()
    for model, fields in ENCRYPTED_FIELDS.items():
        table = model.__table__
        owner_name, row_name = IDENTITY[model]
        key_columns = list(table.primary_key.columns)
        # Compare-and-set on the row's version where it has one (JSON cannot be compared).
        guard = table.c.version if "version" in table.c else None
        last: tuple[Any, ...] | None = None
        while True:
            query = select(
                table.c[owner_name],
                table.c[row_name],
                *key_columns,
                *(table.c[f] for f in fields),
                *([guard] if guard is not None else []),
            )
            if last is not None:
                query = query.where(tuple_(*key_columns) > tuple_(*last))
            rows = connection.execute(query.order_by(*key_columns).limit(BATCH)).all()
            if not rows:
                break
            for row in rows:
                owner_id, row_id = row[0], row[1]
                key = row[2 : 2 + len(key_columns)]
                values = row[2 + len(key_columns) : 2 + len(key_columns) + len(fields)]
                for field, value in zip(fields, values, strict=True):
                    if value is None:
                        continue
                    new = transform(model, field, owner_id, row_id, value)
                    if new == value:
                        continue
                    connection.execute(
                        update(table)
                        .where(and_(*(c == v for c, v in zip(key_columns, key, strict=True))))
                        .where(guard == row[-1] if guard is not None else table.c[field] == value)
                        .values({field: new})
                    )
                    changed[table.name] += 1
            last = tuple(rows[-1][2 : 2 + len(key_columns)])
    return changed
