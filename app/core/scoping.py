"""The one place that decides which diary rows a caller may see.

Every diary query starts from an `OwnerScope`: it adds the owner filter, and for a
therapist's view it hides private entries. Routes never filter by owner themselves.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, Executable, bindparam, false
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import NotFound
from app.core.security import BearerToken, authenticated_client
from app.models.account import User
from app.models.diary import Entry


class OwnedRow(Protocol):
    owner_id: uuid.UUID


Row = TypeVar("Row", bound=OwnedRow)
Statement = TypeVar("Statement", bound=Executable)
Params = dict[str, Any]

OWNER_PARAMETER = "scope_owner_id"
_TEMPLATE_OWNER = uuid.UUID(int=0)
_PREPARED: dict[tuple[Callable[..., Any], bool], Any] = {}


@dataclass(frozen=True, slots=True)
class OwnerScope:
    owner_id: uuid.UUID
    include_private: bool = True
    timezone: str = "UTC"  # the owner's: summaries are computed in the client's local time

    def _owner(self) -> Any:
        return self.owner_id

    def conditions(self, model: type[Any]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [col(model.owner_id) == self._owner()]
        if model is Entry and not self.include_private:
            conditions.append(col(Entry.private) == false())
        return conditions

    def prepared(self, build: Callable[["OwnerScope"], Statement]) -> tuple[Statement, Params]:
        """`build(scope)`, made once per process and kind of scope with the owner as a bound
        parameter, and the parameters that bind it to this scope.

        Reusing one statement object skips building it and computing its cache key, which
        for a statement with subqueries costs more than running it. `build` must take the
        owner only through `conditions` (the scope it gets has no timezone of its own).
        """
        key = (build, self.include_private)
        statement = _PREPARED.get(key)
        if statement is None:
            template = _BoundOwnerScope(_TEMPLATE_OWNER, include_private=self.include_private)
            statement = _PREPARED.setdefault(key, build(template))
        return statement, {OWNER_PARAMETER: self.owner_id}

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


def lock_owner(session: Session, scope: OwnerScope) -> None:
    """Serialise writes that check a per-client rule (e.g. at most two active focus areas).

    PostgreSQL locks the account row; SQLite already serialises writers (BEGIN IMMEDIATE).
    """
    session.exec(select(User.id).where(col(User.id) == scope.owner_id).with_for_update()).first()


async def _client_scope(request: Request, token: BearerToken) -> OwnerScope:
    caller = await authenticated_client(request, token)
    return OwnerScope(owner_id=caller.id, timezone=caller.timezone)


ClientScope = Annotated[OwnerScope, Depends(_client_scope)]
