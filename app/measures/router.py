import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.core.settings import SettingsDep
from app.measures import schedule, service
from app.measures.schemas import (
    SCHEDULE_EXAMPLE,
    DueMeasures,
    MeasureCreate,
    MeasurePublic,
    MeasureUpdate,
    Schedule,
)

router = APIRouter(prefix="/v1/measures", tags=["measures"])
schedule_router = APIRouter(prefix="/v1/measure-schedule", tags=["measures"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a completed questionnaire (PHQ-9, GAD-7, WSAS, EPDS)",
    description="The service scores it: `total` and `severity` are computed, never taken from "
    "the client. A measure whose safety item (PHQ-9 item 9, EPDS item 10) is above 0 returns "
    "a `safety` object: show its crisis resources at once.",
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
    "/due",
    summary="The measures due now under the schedule",
    description="An instrument of the schedule is due when it was never completed, or when "
    "as many sessions were held (up to now) or days have gone since its latest completion as "
    "the schedule says, whichever comes first.",
    responses=problem_responses(401, 403),
)
async def due_measures(db: Reads, scope: ClientScope) -> DueMeasures:
    return await db.run(schedule.due, scope)


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


@schedule_router.get(
    "",
    summary="Read the measure schedule",
    description="Each scheduled instrument with its cadence; `{}` when none is scheduled.",
    responses=problem_responses(401, 403),
)
async def read_schedule(db: Reads, scope: ClientScope) -> Schedule:
    return await db.run(schedule.read, scope)


@schedule_router.put(
    "",
    summary="Set the measure schedule agreed in therapy",
    description="Replaces the whole schedule: an instrument left out is no longer scheduled. "
    "Each instrument takes `every_n_sessions` (sessions held), `every_n_days` or both "
    "(whichever comes first).",
    responses=problem_responses(401, 403, 413, 422),
)
async def replace_schedule(
    db: Writes,
    scope: ClientScope,
    new: Annotated[Schedule, Body(openapi_examples={"agreed": {"value": SCHEDULE_EXAMPLE}})],
) -> Schedule:
    return await db.run(schedule.replace, scope, new)
