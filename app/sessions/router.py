import uuid

from fastapi import APIRouter, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.sessions import service
from app.sessions.schemas import TherapySessionCreate, TherapySessionPublic, TherapySessionUpdate

router = APIRouter(prefix="/v1/sessions", tags=["therapy sessions"])


def _public(row: object) -> TherapySessionPublic:
    return TherapySessionPublic.model_validate(row, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a therapy session",
    description="`phase` defaults from `number`: 1–4 initial, 5–12 middle, 13+ termination. "
    "Session numbers are unique per client (409).",
    responses=problem_responses(401, 403, 409, 413, 422),
)
def create_session(
    data: TherapySessionCreate, scope: ClientScope, session: SessionDep, response: Response
) -> TherapySessionPublic:
    therapy_session = service.create(session, scope, data)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.get(
    "", summary="List therapy sessions, latest first", responses=problem_responses(401, 403, 422)
)
def list_sessions(
    scope: ClientScope, session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[TherapySessionPublic]:
    rows, next_cursor = service.page(session, scope, limit=limit, cursor=cursor)
    return Page(items=[_public(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{session_id}",
    summary="Read one therapy session",
    responses=problem_responses(401, 403, 404, 422),
)
def read_session(
    session_id: uuid.UUID, scope: ClientScope, session: SessionDep, response: Response
) -> TherapySessionPublic:
    therapy_session = service.get(session, scope, session_id)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.patch(
    "/{session_id}",
    summary="Change a therapy session",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_session(
    session_id: uuid.UUID,
    changes: TherapySessionUpdate,
    scope: ClientScope,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TherapySessionPublic:
    therapy_session = service.update(session, scope, session_id, changes, if_match)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a therapy session",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def delete_session(
    session_id: uuid.UUID, scope: ClientScope, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    service.delete(session, scope, session_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
