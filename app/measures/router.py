import uuid

from fastapi import APIRouter, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.core.settings import SettingsDep
from app.measures import service
from app.measures.schemas import MeasureCreate, MeasurePublic, MeasureUpdate

router = APIRouter(prefix="/v1/measures", tags=["measures"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a completed PHQ-9 or GAD-7",
    description="The service scores it: `total` and `severity` are computed, never taken from "
    "the client. A PHQ-9 whose item 9 is above 0 returns a `safety` object: show its crisis "
    "resources at once.",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_measure(
    db: Writes,
    data: MeasureCreate,
    scope: ClientScope,
    settings: SettingsDep,
    response: Response,
) -> MeasurePublic:
    measure = await db.run(service.create, scope, data, settings)
    set_etag(response, measure)
    return measure


@router.get("", summary="List measures, latest first", responses=problem_responses(401, 403, 422))
async def list_measures(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[MeasurePublic]:
    rows, next_cursor = await db.run(service.page, scope, limit=limit, cursor=cursor)
    return Page(items=[service.public(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{measure_id}", summary="Read one measure", responses=problem_responses(401, 403, 404, 422)
)
async def read_measure(
    db: Reads, measure_id: uuid.UUID, scope: ClientScope, response: Response
) -> MeasurePublic:
    measure = await db.run(service.get, scope, measure_id)
    set_etag(response, measure)
    return service.public(measure)


@router.patch(
    "/{measure_id}",
    summary="Correct a measure (rescored)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_measure(
    db: Writes,
    measure_id: uuid.UUID,
    changes: MeasureUpdate,
    scope: ClientScope,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> MeasurePublic:
    measure = await db.run(service.update, scope, measure_id, changes, if_match, settings)
    set_etag(response, measure)
    return measure


@router.delete(
    "/{measure_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a measure",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_measure(
    db: Writes, measure_id: uuid.UUID, scope: ClientScope, if_match: IfMatchHeader = None
) -> Response:
    await db.run(service.delete, scope, measure_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
