"""The one place that decides which diary rows a caller may see.

Every diary query starts from an `OwnerScope`: it adds the owner filter, and for a
therapist's view it hides private entries. Routes never filter by owner themselves.
A statement run on every request is declared once, at module level, as an
`OwnerStatement`.
"""

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, Executable, bindparam, exists, false, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.authentication import BearerSubject
from app.core.callers import authenticated_client
from app.core.errors import NotFound
from app.models.account import User
from app.models.diary import Entry
from app.models.safety import SafetyEvent


class OwnedRow(Protocol):
    owner_id: uuid.UUID


Row = TypeVar("Row", bound=OwnedRow)
Statement = TypeVar("Statement", bound=Executable)
Params = dict[str, Any]

OWNER_PARAMETER = "scope_owner_id"
_TEMPLATE_OWNER = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class OwnerScope:
    owner_id: uuid.UUID
    include_private: bool = True
    timezone: str = "UTC"  # the owner's, which the summaries report
    # The diary's version when the request read it (the owner's change sequence), where the
    # request knows it: what a kept summary answer is checked against.
    version: int | None = None

    def _owner(self) -> Any:
        return self.owner_id

    def conditions(self, model: type[Any]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [col(model.owner_id) == self._owner()]
        if not self.include_private:
            if model is Entry:
                conditions.append(col(Entry.private) == false())
            elif model is SafetyEvent:  # nor what a private entry raised
                conditions.append(
                    ~exists().where(
                        col(Entry.owner_id) == col(SafetyEvent.owner_id),
                        col(Entry.id) == col(SafetyEvent.entry_id),
                        col(Entry.private) == true(),
                    )
                )
        return conditions

    def select(self, model: type[Row]) -> SelectOfScalar[Row]:
        return select(model).where(*self.conditions(model))

    def new_row(self, model: type[Row], values: dict[str, Any], row_id: uuid.UUID | None) -> Row:
        """A new row owned by this scope, with the client's own id when it sent one."""
        update: dict[str, Any] = {"owner_id": self.owner_id}
        if row_id is not None:
            update["id"] = row_id
        return model.model_validate(values, update=update)  # type: ignore[attr-defined,no-any-return]

    def get(self, session: Session, model: type[Row], row_id: uuid.UUID, what: str) -> Row:
        row = session.exec(self.select(model).where(col(model.id) == row_id)).first()  # type: ignore[attr-defined]
        if row is None:
            # The same answer whether the id is unknown or belongs to someone else.
            raise NotFound(f"No {what} with id {row_id}")
        return row


class _BoundOwnerScope(OwnerScope):
    """A scope whose conditions compare with a bound parameter instead of an owner id."""

    __slots__ = ()

    def _owner(self) -> Any:
        return bindparam(OWNER_PARAMETER)


class OwnerStatement(Generic[Statement]):
    """A statement over one owner's rows, declared once at module level:

        _BY_ID = OwnerStatement(lambda scope: select(...).where(*scope.conditions(X), ...))
        statement, params = _BY_ID.bind(scope)

    `build(scope, *variant)` is called once per process for each kind of scope (with or
    without private entries) and each variant it takes (the filters a list uses, the bounds
    a time range has), with the owner as a bound parameter; `bind` gives that statement and
    the parameters that bind it to a scope. Reusing one statement object spares building
    it and computing its cache key, which for a select with subqueries costs more than
    running it. `build` must take the owner only through the scope's `conditions` (the
    scope it gets has no time zone of its own).
    """

    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[..., Statement]) -> None:
        self._build = build
        self._built: dict[tuple[bool, tuple[Hashable, ...]], Statement] = {}

    def bind(self, scope: OwnerScope, *variant: Hashable) -> tuple[Statement, Params]:
        key = (scope.include_private, variant)
        statement = self._built.get(key)
        if statement is None:
            template = _BoundOwnerScope(_TEMPLATE_OWNER, include_private=scope.include_private)
            statement = self._built.setdefault(key, self._build(template, *variant))
        return statement, {OWNER_PARAMETER: scope.owner_id}


def lock_owner(session: Session, scope: OwnerScope) -> None:
    """Serialise writes that check a per-client rule (e.g. at most two active focus areas).

    PostgreSQL locks the account row; SQLite already serialises writers (BEGIN IMMEDIATE).
    """
    session.exec(select(User.id).where(col(User.id) == scope.owner_id).with_for_update()).first()


async def _client_scope(request: Request, subject: BearerSubject) -> OwnerScope:
    caller = await authenticated_client(request, subject)
    return OwnerScope(owner_id=caller.id, timezone=caller.timezone, version=caller.diary_version)


ClientScope = Annotated[OwnerScope, Depends(_client_scope)]
