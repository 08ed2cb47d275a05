import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.focus_areas import service
from app.focus_areas.schemas import FocusAreaCreate, FocusAreaPublic, FocusAreaUpdate
from app.models.diary import FocusStatus

router = APIRouter(prefix="/v1/focus-areas", tags=["focus areas"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a focus area agreed with the therapist",
    description="At most two focus areas can be `active` at once (409 otherwise).",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_focus_area(
    db: Writes, data: FocusAreaCreate, scope: ClientScope, response: Response
) -> FocusAreaPublic:
    focus_area = await db.run(service.create, scope, data)
    set_etag(response, focus_area)
    return focus_area


@router.get(
    "", summary="List focus areas (oldest first)", responses=problem_responses(401, 403, 422)
)
async def list_focus_areas(
    db: Reads,
    scope: ClientScope,
    status_filter: Annotated[FocusStatus | None, Query(alias="status")] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[FocusAreaPublic]:
    items, next_cursor = await db.run(
        service.page, scope, status=status_filter, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{focus_area_id}",
    summary="Read one focus area",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_focus_area(
    db: Reads, focus_area_id: uuid.UUID, scope: ClientScope, response: Response
) -> FocusAreaPublic:
    focus_area = await db.run(service.get, scope, focus_area_id)
    set_etag(response, focus_area)
    return focus_area


@router.patch(
    "/{focus_area_id}",
    summary="Change a focus area",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_focus_area(
    db: Writes,
    focus_area_id: uuid.UUID,
    changes: FocusAreaUpdate,
    scope: ClientScope,
    response: Response,
    if_match: IfMatchHeader = None,
) -> FocusAreaPublic:
    focus_area = await db.run(service.update, scope, focus_area_id, changes, if_match)
    set_etag(response, focus_area)
    return focus_area


@router.delete(
    "/{focus_area_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a focus area (its entries stay, unlinked)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_focus_area(
    db: Writes,
    focus_area_id: uuid.UUID,
    scope: ClientScope,
    if_match: IfMatchHeader = None,
) -> Response:
    await db.run(service.delete, scope, focus_area_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
