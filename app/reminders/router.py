import uuid

from fastapi import APIRouter, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.models.reminders import Reminder
from app.reminders import service
from app.reminders.schemas import ReminderCreate, ReminderPublic, ReminderUpdate

router = APIRouter(prefix="/v1/reminders", tags=["reminders"])


def _public(row: Reminder) -> ReminderPublic:
    return ReminderPublic.model_validate(row, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a reminder",
    description="Each device schedules its own notifications from the reminders (synced "
    "through `/v1/sync`); the calendar feed shows the active ones. A rule that never occurs "
    "from `starts_on` is a 422 naming `rrule`.",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_reminder(
    db: Writes, data: ReminderCreate, scope: ClientScope, response: Response
) -> ReminderPublic:
    reminder = await db.run(service.create, scope, data)
    set_etag(response, reminder)
    return _public(reminder)


@router.get("", summary="List reminders, oldest first", responses=problem_responses(401, 403, 422))
async def list_reminders(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ReminderPublic]:
    rows, next_cursor = await db.run(service.page, scope, limit=limit, cursor=cursor)
    return Page(items=[_public(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{reminder_id}", summary="Read one reminder", responses=problem_responses(401, 403, 404, 422)
)
async def read_reminder(
    db: Reads, reminder_id: uuid.UUID, scope: ClientScope, response: Response
) -> ReminderPublic:
    reminder = await db.run(service.get, scope, reminder_id)
    set_etag(response, reminder)
    return _public(reminder)


@router.patch(
    "/{reminder_id}",
    summary="Change a reminder",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_reminder(
    db: Writes,
    reminder_id: uuid.UUID,
    changes: ReminderUpdate,
    scope: ClientScope,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReminderPublic:
    reminder = await db.run(service.update, scope, reminder_id, changes, if_match)
    set_etag(response, reminder)
    return _public(reminder)


@router.delete(
    "/{reminder_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a reminder",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_reminder(
    db: Writes, reminder_id: uuid.UUID, scope: ClientScope, if_match: IfMatchHeader = None
) -> Response:
    await db.run(service.delete, scope, reminder_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
