"""Therapy sessions: the dates that divide the diary into between-session intervals."""

import uuid

from sqlmodel import Session, col

from app.core import crud
from app.core.pagination import keyset_page
from app.core.scoping import OwnerScope
from app.models.therapy import TherapySession
from app.sessions.schemas import TherapySessionCreate, TherapySessionUpdate, phase_for


def _taken(number: int | None) -> str:
    return f"You already have a session with this id or number {number}"


def create(session: Session, scope: OwnerScope, data: TherapySessionCreate) -> TherapySession:
    values = data.model_dump(exclude={"id"})
    values["phase"] = data.phase or phase_for(data.number)
    therapy_session = scope.new_row(TherapySession, values, data.id)
    return crud.insert(session, therapy_session, _taken(data.number))


def get(session: Session, scope: OwnerScope, session_id: uuid.UUID) -> TherapySession:
    return scope.get(session, TherapySession, session_id, "session")


def page(
    session: Session, scope: OwnerScope, *, limit: int, cursor: str | None
) -> tuple[list[TherapySession], str | None]:
    return keyset_page(
        session,
        scope.select(TherapySession),
        col(TherapySession.held_at),
        col(TherapySession.id),
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


def update(
    session: Session,
    scope: OwnerScope,
    session_id: uuid.UUID,
    changes: TherapySessionUpdate,
    if_match: str | None,
) -> TherapySession:
    therapy_session = get(session, scope, session_id)
    values = changes.model_dump(exclude_unset=True)
    if values.get("phase", therapy_session.phase) is None:
        values["phase"] = phase_for(values.get("number", therapy_session.number))
    return crud.update(session, therapy_session, if_match, values, _taken(values.get("number")))


def delete(
    session: Session, scope: OwnerScope, session_id: uuid.UUID, if_match: str | None
) -> None:
    therapy_session = get(session, scope, session_id)
    crud.delete(session, therapy_session, if_match)
