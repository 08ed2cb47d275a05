"""`from`/`to` query parameters: RFC 3339 instants, `from` inclusive, `to` exclusive."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy.sql.elements import ColumnElement

from app.models.diary import UTCInstant


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


async def _time_range(
    start: Annotated[
        UTCInstant | None,
        Query(alias="from", description="Inclusive lower bound, RFC 3339 with offset"),
    ] = None,
    end: Annotated[
        UTCInstant | None,
        Query(alias="to", description="Exclusive upper bound, RFC 3339 with offset"),
    ] = None,
) -> TimeRange:
    return TimeRange(start, end)


TimeRangeDep = Annotated[TimeRange, Depends(_time_range)]
