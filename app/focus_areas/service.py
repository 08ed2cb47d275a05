"""Focus areas: the one or two IPT problem areas a client and therapist agreed to work on."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from app.core import change_log, crud
from app.core.concurrency import check_if_match
from app.core.errors import Conflict, ValidationFailed
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope, lock_owner
from app.focus_areas.schemas import (
    FocusAreaCreate,
    FocusAreaPublic,
    FocusAreaUpdate,
    problem_area_mismatch,
)
from app.models.base import utcnow
from app.models.diary import Entry, FocusArea, FocusAreaPerson, FocusStatus, Person

MAX_ACTIVE = 2


def _check_people(session: Session, scope: OwnerScope, person_ids: Sequence[uuid.UUID]) -> None:
    if len(set(person_ids)) != len(person_ids):
        raise ValidationFailed.for_field("body.person_ids", "lists a person more than once")
    if not person_ids:
        return
    known = set(
        session.exec(
            select(Person.id).where(*scope.conditions(Person), col(Person.id).in_(person_ids))
        )
    )
    for index, person_id in enumerate(person_ids):
        if person_id not in known:
            raise ValidationFailed.for_field(
                f"body.person_ids.{index}", f"no person with id {person_id}"
            )


def _check_active_limit(
    session: Session, scope: OwnerScope, except_id: uuid.UUID | None = None
) -> None:
    lock_owner(session, scope)
    stmt = select(func.count()).where(
        *scope.conditions(FocusArea), col(FocusArea.status) == FocusStatus.active
    )
    if except_id is not None:
        stmt = stmt.where(col(FocusArea.id) != except_id)
    if session.exec(stmt).one() >= MAX_ACTIVE:
        raise Conflict(f"At most {MAX_ACTIVE} focus areas can be active at once; resolve one first")


def _set_people(
    session: Session, scope: OwnerScope, focus_area_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> None:
    session.exec(
        sql_delete(FocusAreaPerson).where(
            *scope.conditions(FocusAreaPerson), col(FocusAreaPerson.focus_area_id) == focus_area_id
        )
    )
    session.add_all(
        FocusAreaPerson(owner_id=scope.owner_id, focus_area_id=focus_area_id, person_id=pid)
        for pid in person_ids
    )


def person_ids_by_focus_area(
    session: Session, scope: OwnerScope, focus_area_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if focus_area_ids:
        rows = session.exec(
            select(FocusAreaPerson.focus_area_id, FocusAreaPerson.person_id)
            .where(
                *scope.conditions(FocusAreaPerson),
                col(FocusAreaPerson.focus_area_id).in_(focus_area_ids),
            )
            .order_by(col(FocusAreaPerson.person_id))
        )
        for focus_area_id, person_id in rows:
            found[focus_area_id].append(person_id)
    return found


def to_public(focus_area: FocusArea, person_ids: list[uuid.UUID]) -> FocusAreaPublic:
    return FocusAreaPublic.model_validate({**focus_area.model_dump(), "person_ids": person_ids})


def _check_fits_problem_area(focus_area: FocusArea | FocusAreaCreate, **changes: Any) -> None:
    """The focus area, with `changes` applied, fits its problem area."""
    merged = {
        name: changes.get(name, getattr(focus_area, name))
        for name in ("problem_area", "dispute_stage", "from_role", "to_role")
    }
    mismatch = problem_area_mismatch(**merged)
    if mismatch:
        raise ValidationFailed.for_field(f"body.{mismatch[0]}", mismatch[1])


def create(session: Session, scope: OwnerScope, data: FocusAreaCreate) -> FocusAreaPublic:
    _check_fits_problem_area(data)
    _check_people(session, scope, data.person_ids)
    if data.status is FocusStatus.active:
        _check_active_limit(session, scope)
    focus_area = scope.new_row(FocusArea, data.model_dump(exclude={"id", "person_ids"}), data.id)
    crud.insert(session, focus_area, f"You already have a focus area with id {data.id}")
    _set_people(session, scope, focus_area.id, data.person_ids)
    session.flush()
    return to_public(focus_area, sorted(data.person_ids))


def get(session: Session, scope: OwnerScope, focus_area_id: uuid.UUID) -> FocusAreaPublic:
    focus_area = scope.get(session, FocusArea, focus_area_id, "focus area")
    people = person_ids_by_focus_area(session, scope, [focus_area.id])
    return to_public(focus_area, people[focus_area.id])


def page(
    session: Session,
    scope: OwnerScope,
    *,
    status: FocusStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[FocusAreaPublic], str | None]:
    stmt = scope.select(FocusArea)
    if status is not None:
        stmt = stmt.where(col(FocusArea.status) == status)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        col(FocusArea.created_at),
        col(FocusArea.id),
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )
    people = person_ids_by_focus_area(session, scope, [row.id for row in rows])
    return [to_public(row, people[row.id]) for row in rows], next_cursor


def update(
    session: Session,
    scope: OwnerScope,
    focus_area_id: uuid.UUID,
    changes: FocusAreaUpdate,
    if_match: str | None,
) -> FocusAreaPublic:
    focus_area = scope.get(session, FocusArea, focus_area_id, "focus area")
    check_if_match(if_match, focus_area)
    values = changes.model_dump(exclude_unset=True)
    person_ids: list[uuid.UUID] | None = values.pop("person_ids", None)
    if person_ids is not None:
        _check_people(session, scope, person_ids)
    _check_fits_problem_area(focus_area, **values)
    if values.get("status") is FocusStatus.active and focus_area.status is not FocusStatus.active:
        _check_active_limit(session, scope, except_id=focus_area.id)
    crud.update(session, focus_area, if_match, values)
    if person_ids is not None:
        _set_people(session, scope, focus_area.id, person_ids)
        session.flush()
    return get(session, scope, focus_area.id)


def delete(
    session: Session, scope: OwnerScope, focus_area_id: uuid.UUID, if_match: str | None
) -> None:
    """Delete a focus area; its entries stay in the diary, no longer linked to it."""
    focus_area = scope.get(session, FocusArea, focus_area_id, "focus area")
    check_if_match(if_match, focus_area)
    linked = col(Entry.focus_area_id) == focus_area_id
    unlinked = session.exec(select(Entry.id).where(*scope.conditions(Entry), linked)).all()
    if unlinked:
        session.exec(
            sql_update(Entry)
            .where(*scope.conditions(Entry), linked)
            .values(focus_area_id=None, version=Entry.version + 1, updated_at=utcnow())
        )
        change_log.record(
            session, [(scope.owner_id, "entry", entry_id, None) for entry_id in unlinked]
        )
    crud.delete(session, focus_area, if_match)
