"""Keyset (cursor) pagination over a (time, id) key, shared by every list endpoint."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, overload

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Row as ResultRow
from sqlalchemy import Select, tuple_
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import ValidationFailed

T = TypeVar("T")
Row = TypeVar("Row")

LimitParam = Annotated[int, Query(ge=1, le=100, description="Page size, 1–100")]
CursorParam = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValidationFailed.for_field("query.cursor", "not a cursor this API issued") from exc


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
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, time_column.key), getattr(last, id_column.key))
