"""Keyset (cursor) pagination over a (time, id) key, shared by every list endpoint."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, overload

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, Uuid, bindparam, tuple_
from sqlalchemy import Row as ResultRow
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import ValidationFailed
from app.models.base import UTCDateTime

T = TypeVar("T")
Row = TypeVar("Row")

LimitParam = Annotated[int, Query(ge=1, le=100, description="Page size, 1–100")]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque: the `next_cursor` of the previous page, as this API issued it "
        "(any other value is a 422)",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.astimezone(UTC).isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None:  # every cursor this API issues is an aware instant
            raise ValueError(at)
        return instant, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValidationFailed.for_field("query.cursor", "not a cursor this API issued") from exc


_CURSOR_AT, _CURSOR_ID = "cursor_at", "cursor_id"


def after_cursor(time_column: Any, id_column: Any, *, newest_first: bool) -> ColumnElement[bool]:
    """`keyset_page`'s cursor condition for a statement prepared once: the cursor's values
    are bound parameters (`cursor_parameters`), typed as `keyset_page` binds them."""
    key = tuple_(time_column, id_column)
    after = tuple_(bindparam(_CURSOR_AT, type_=UTCDateTime()), bindparam(_CURSOR_ID, type_=Uuid()))
    return key < after if newest_first else key > after


def cursor_parameters(cursor: str) -> dict[str, Any]:
    """The values `after_cursor` binds, from a cursor this API issued."""
    at, row_id = decode_cursor(cursor)
    return {_CURSOR_AT: at, _CURSOR_ID: row_id}


def trimmed_page(
    rows: list[T], limit: int, key_of: Callable[[T], tuple[datetime, uuid.UUID]]
) -> tuple[list[T], str | None]:
    """`limit` rows of the `limit + 1` fetched, and the next page's cursor when the extra
    row shows there is one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(*key_of(rows[-1]))


@overload
def keyset_page(
    session: Session,
    stmt: SelectOfScalar[Row],
    time_column: Any,
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> tuple[list[Row], str | None]: ...


@overload
def keyset_page(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    time_column: Any,
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> tuple[list[ResultRow[Any]], str | None]: ...


def keyset_page(
    session: Session,
    stmt: SelectOfScalar[Row] | Select[*tuple[Any, ...]],
    time_column: Any,
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> tuple[list[Row] | list[ResultRow[Any]], str | None]:
    """One page ordered by (time, id), and the cursor of the next page: entities for an
    entity select, result rows for a column select."""
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        key = tuple_(time_column, id_column)
        stmt = stmt.where(key < tuple_(at, row_id) if newest_first else key > tuple_(at, row_id))
    order = (time_column.desc(), id_column.desc()) if newest_first else (time_column, id_column)
    rows: list[Any] = list(session.exec(stmt.order_by(*order).limit(limit + 1)))  # type: ignore[arg-type]
    return trimmed_page(
        rows, limit, lambda last: (getattr(last, time_column.key), getattr(last, id_column.key))
    )
