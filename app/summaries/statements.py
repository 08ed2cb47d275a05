"""The statements the summaries share: the scoped entries in a time range, their people
and emotions, and how a summary's statement is prepared once and run with its range.

Summaries run statements declared once (`OwnerStatement`): built once per process for each
kind of scope and each shape of time range (which bounds it has), with the owner and the
bounds as bound parameters. Building a select with subqueries and computing its cache key
costs about as much as running it on a small diary.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Float, String, and_, bindparam, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from app.core.scoping import OwnerScope, OwnerStatement
from app.core.timerange import TimeRange
from app.models.diary import EARLIEST, Entry, EntryEmotion, EntryPerson


def mean(column: Any) -> ColumnElement[float]:
    return func.avg(cast(column, Float))


class Bytewise(FunctionElement[str]):
    """A text compared byte by byte (code point by code point), as SQLite and Python do.

    PostgreSQL compares by the database's collation otherwise; outside "C" (even
    "C.UTF-8", before PostgreSQL 17) each comparison calls strcoll, ~10% of the top
    emotions' time on the benchmark's diary. Grouping is the same under any deterministic
    collation, and ties between labels are now ordered as SQLite and the reference do.
    """

    type = String()
    inherit_cache = True


@compiles(Bytewise)
def _bytewise(element: Bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(Bytewise, "postgresql")
def _bytewise_postgresql(element: Bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


class WeekStart(FunctionElement[Any]):
    """The Monday of a date's week (weeks start on Monday), as a date."""

    type = Date()
    inherit_cache = True


@compiles(WeekStart, "sqlite")
def _week_start_sqlite(element: WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # Step back six days, then forward to the next Monday (or stay on it).
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@compiles(WeekStart, "postgresql")
def _week_start_postgresql(element: WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"


class EpochSeconds(FunctionElement[float]):
    """An instant as seconds since 1970, with its fraction."""

    type = Float()
    inherit_cache = True


@compiles(EpochSeconds, "sqlite")
def _epoch_sqlite(element: EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    # Whole seconds exactly, plus the milliseconds (julianday() would round to ~40 µs).
    c = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', {c}) AS REAL) + CAST(strftime('%f', {c}) AS REAL) "
        f"- CAST(strftime('%S', {c}) AS REAL))"
    )


@compiles(EpochSeconds, "postgresql")
def _epoch_postgresql(element: EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(extract(epoch FROM {compiler.process(element.clauses, **kw)}) AS FLOAT)"


FROM_PARAMETER = "summary_from"
TO_PARAMETER = "summary_to"


@dataclass(frozen=True, slots=True)
class Shape:
    """Which bounds a time range has; the bounds themselves are bound parameters."""

    has_start: bool
    has_end: bool

    @classmethod
    def of(cls, time_range: TimeRange) -> "Shape":
        return cls(time_range.start is not None, time_range.end is not None)

    @property
    def all_time(self) -> bool:
        return not (self.has_start or self.has_end)


def range_parameters(time_range: TimeRange) -> dict[str, Any]:
    # Bounded below even for all time: see `entry_conditions`.
    parameters: dict[str, Any] = {FROM_PARAMETER: time_range.start or EARLIEST}
    if time_range.end is not None:
        parameters[TO_PARAMETER] = time_range.end
    return parameters


def execute(
    session: Session,
    statement: OwnerStatement[Any],
    scope: OwnerScope,
    time_range: TimeRange,
    *variant: Hashable,
) -> Any:
    """Run a summary's statement (declared as `OwnerStatement(build)`,
    `build(scope, shape, *variant)`) for this scope and time range."""
    prepared, parameters = statement.bind(scope, Shape.of(time_range), *variant)
    return session.execute(prepared, {**parameters, **range_parameters(time_range)})


def ratio(numerator: float | None, denominator: int) -> float | None:
    """A mean from a sum and a count: None for no values."""
    return numerator / denominator if denominator and numerator is not None else None


def entry_conditions(scope: OwnerScope, shape: Shape) -> list[ColumnElement[bool]]:
    """The scoped entries in the range, for reading them all (their moods, their ids)."""
    # Bounded below even for all time (no entry is before EARLIEST): SQLite then reads the
    # entries through (owner_id, occurred_at), in time order, which is mostly the table's
    # own order (a diary is written as things happen). Through the other owner_id indexes,
    # which it may pick otherwise, reading their moods takes twice as long.
    occurred_at = col(Entry.occurred_at)
    conditions = [*scope.conditions(Entry), occurred_at >= bindparam(FROM_PARAMETER)]
    if shape.has_end:
        conditions.append(occurred_at < bindparam(TO_PARAMETER))
    return conditions


def range_conditions(column: Any, shape: Shape) -> list[ColumnElement[bool]]:
    """`column` within the range's bound parameters (for measures and sessions)."""
    conditions = []
    if shape.has_start:
        conditions.append(column >= bindparam(FROM_PARAMETER))
    if shape.has_end:
        conditions.append(column < bindparam(TO_PARAMETER))
    return conditions


def emotion_conditions(scope: OwnerScope, shape: Shape) -> list[ColumnElement[bool]]:
    """The emotions of the scoped entries in the range.

    When the scope and range keep all of the owner's entries, the owner is enough: no
    entries to read. Otherwise the entries are filtered once, into a set of ids, rather than
    looked up again for every emotion.
    """
    conditions = scope.conditions(EntryEmotion)
    if not scope.include_private or not shape.all_time:
        scoped_ids = sa_select(col(Entry.id)).where(*entry_conditions(scope, shape))
        conditions.append(col(EntryEmotion.entry_id).in_(scoped_ids))
    return conditions


def per_person_totals(scope: OwnerScope, shape: Shape) -> Subquery:
    """Per person named in the scoped entries in the range: entries, their mood's sum and
    sum of squares, and the sum and count of the qualities of contact rated."""
    # A LEFT JOIN so that the entries drive it (SQLite reads each entry once and finds its
    # people by primary key, instead of reading an entry again for each person named);
    # the entries that name nobody form a NULL group, which matches no person.
    return (
        sa_select(
            col(EntryPerson.person_id).label("person_id"),
            func.count().label("entries"),
            func.sum(col(Entry.mood)).label("mood_sum"),
            func.sum(col(Entry.mood) * col(Entry.mood)).label("mood_squares"),
            func.sum(col(EntryPerson.quality)).label("quality_sum"),
            func.count(col(EntryPerson.quality)).label("qualities"),
        )
        .select_from(Entry)
        .outerjoin(
            EntryPerson,
            and_(
                col(EntryPerson.owner_id) == col(Entry.owner_id),
                col(EntryPerson.entry_id) == col(Entry.id),
            ),
        )
        .where(*entry_conditions(scope, shape))
        .group_by(col(EntryPerson.person_id))
        .subquery("per_person")
    )
