import uuid

from fastapi import APIRouter

from app.core.database.session import Reads
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.safety import service
from app.safety.schemas import SafetyEventPublic

router = APIRouter(prefix="/v1/safety-events", tags=["safety"])


@router.get(
    "",
    summary="Every safety notice the API gave you, newest first",
    description="Kept once per entry or measure and reason, and deleted with it. A therapist "
    "you share with sees them too, except those of private entries.",
    responses=problem_responses(401, 403, 422),
)
async def list_safety_events(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[SafetyEventPublic]:
    items, next_cursor = await db.run(service.page, scope, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{event_id}",
    summary="Read one safety event",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_safety_event(
    db: Reads, event_id: uuid.UUID, scope: ClientScope
) -> SafetyEventPublic:
    return await db.run(service.get, scope, event_id)
