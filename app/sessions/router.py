import uuid

from fastapi import APIRouter, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
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
async def create_session(
    db: Writes, data: TherapySessionCreate, scope: ClientScope, response: Response
) -> TherapySessionPublic:
    therapy_session = await db.run(service.create, scope, data)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.get(
    "", summary="List therapy sessions, latest first", responses=problem_responses(401, 403, 422)
)
async def list_sessions(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[TherapySessionPublic]:
    rows, next_cursor = await db.run(service.page, scope, limit=limit, cursor=cursor)
    return Page(items=[_public(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{session_id}",
    summary="Read one therapy session",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_session(
    db: Reads, session_id: uuid.UUID, scope: ClientScope, response: Response
) -> TherapySessionPublic:
    therapy_session = await db.run(service.get, scope, session_id)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.patch(
    "/{session_id}",
    summary="Change a therapy session",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_session(
    db: Writes,
    session_id: uuid.UUID,
    changes: TherapySessionUpdate,
    scope: ClientScope,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TherapySessionPublic:
    therapy_session = await db.run(service.update, scope, session_id, changes, if_match)
    set_etag(response, therapy_session)
    return _public(therapy_session)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a therapy session",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_session(
    db: Writes, session_id: uuid.UUID, scope: ClientScope, if_match: IfMatchHeader = None
) -> Response:
    await db.run(service.delete, scope, session_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
