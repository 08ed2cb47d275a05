"""The one place that decides which diary rows a caller may see.

Every diary query starts from an `OwnerScope`: it adds the owner filter, and for a
therapist's view it hides private entries. Routes never filter by owner themselves.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends
from sqlalchemy import ColumnElement, false
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import NotFound
from app.core.security import CurrentClient
from app.models.account import User
from app.models.diary import Entry


class OwnedRow(Protocol):
    owner_id: uuid.UUID


Row = TypeVar("Row", bound=OwnedRow)


@dataclass(frozen=True, slots=True)
class OwnerScope:
    owner_id: uuid.UUID
    include_private: bool = True
    timezone: str = "UTC"  # the owner's: summaries are computed in the client's local time

    def conditions(self, model: type[Any]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [col(model.owner_id) == self.owner_id]
        if model is Entry and not self.include_private:
            conditions.append(col(Entry.private) == false())
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


def lock_owner(session: Session, scope: OwnerScope) -> None:
    """Serialise writes that check a per-client rule (e.g. at most two active focus areas).

    PostgreSQL locks the account row; SQLite already serialises writers (BEGIN IMMEDIATE).
    """
    session.exec(select(User.id).where(col(User.id) == scope.owner_id).with_for_update()).first()


async def _client_scope(user: CurrentClient) -> OwnerScope:
    return OwnerScope(owner_id=user.id, timezone=user.timezone)


ClientScope = Annotated[OwnerScope, Depends(_client_scope)]
