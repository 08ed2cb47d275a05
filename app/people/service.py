"""The interpersonal inventory: the people in a client's life."""

import uuid

from sqlalchemy import exists
from sqlmodel import Session, col

from app.core import crud
from app.core.concurrency import check_if_match
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.models.base import utcnow
from app.models.diary import EntryPerson, FocusArea, FocusAreaPerson, Person
from app.people.schemas import PersonCreate, PersonUpdate


def create(session: Session, scope: OwnerScope, data: PersonCreate) -> Person:
    person = scope.new_row(Person, data.model_dump(exclude={"id"}), data.id)
    return crud.insert(session, person, f"You already have a person with id {data.id}")


def get(session: Session, scope: OwnerScope, person_id: uuid.UUID) -> Person:
    return scope.get(session, Person, person_id, "person")


def page(
    session: Session, scope: OwnerScope, *, include_archived: bool, limit: int, cursor: str | None
) -> tuple[list[Person], str | None]:
    stmt = scope.select(Person)
    if not include_archived:
        stmt = stmt.where(col(Person.archived_at).is_(None))
    return keyset_page(
        session,
        stmt,
        col(Person.created_at),
        col(Person.id),
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )


def update(
    session: Session,
    scope: OwnerScope,
    person_id: uuid.UUID,
    changes: PersonUpdate,
    if_match: str | None,
) -> Person:
    person = get(session, scope, person_id)
    return crud.update(session, person, if_match, changes.model_dump(exclude_unset=True))


def delete(session: Session, scope: OwnerScope, person_id: uuid.UUID, if_match: str | None) -> None:
    """Delete a person, or archive them if entries name them, so history keeps its meaning."""
    person = get(session, scope, person_id)
    check_if_match(if_match, person)
    named = session.exec(  # type: ignore[call-overload]
        exists()
        .where(*scope.conditions(EntryPerson), col(EntryPerson.person_id) == person_id)
        .select()
    ).one()[0]
    if not named:
        _touch_focus_areas_naming(session, scope, person_id)
        crud.delete(session, person, if_match)  # its focus-area links go with it (CASCADE)
    elif person.archived_at is None:
        crud.update(session, person, if_match, {"archived_at": utcnow()})


def _touch_focus_areas_naming(session: Session, scope: OwnerScope, person_id: uuid.UUID) -> None:
    """A focus area losing a person changes: new version, and sync reports it."""
    for focus_area in session.exec(
        scope.select(FocusArea)
        .join(
            FocusAreaPerson,
            (col(FocusAreaPerson.owner_id) == col(FocusArea.owner_id))
            & (col(FocusAreaPerson.focus_area_id) == col(FocusArea.id)),
        )
        .where(col(FocusAreaPerson.person_id) == person_id)
    ):
        focus_area.updated_at = utcnow()
        session.add(focus_area)
