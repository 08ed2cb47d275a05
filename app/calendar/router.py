from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app.calendar import feed, service
from app.calendar.schemas import CalendarTokenPublic
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.scoping import ClientScope
from app.core.settings import Settings, SettingsDep
from app.models.base import utcnow

router = APIRouter(tags=["calendar"])

FEED_PATH = "/v1/calendar.ics"
TokenParam = Annotated[
    str,
    Query(
        description="The `token` of `POST /v1/calendar-token` (any other value, or a token "
        "since replaced, is a 404)"
    ),
]


def _feed_url(request: Request, settings: Settings, token: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}{FEED_PATH}?{urlencode({'token': token})}"


@router.post(
    "/v1/calendar-token",
    status_code=status.HTTP_201_CREATED,
    summary="A new address for your calendar feed",
    description="Your therapy sessions and active reminders, to subscribe to in a calendar "
    "app. Each call makes a new secret address: the one before stops working (404). The "
    "address starts with `PUBLIC_BASE_URL` when the service has one, else with the address "
    "this request came to.",
    responses=problem_responses(401, 403, 409, 422),
)
async def new_calendar_token(
    db: Writes, scope: ClientScope, request: Request, settings: SettingsDep
) -> CalendarTokenPublic:
    token = await db.run(service.issue_token, scope, settings)
    return CalendarTokenPublic(token=token, url=_feed_url(request, settings, token))


@router.get(
    FEED_PATH,
    summary="Your calendar feed (iCalendar)",
    description="No bearer token: the address's `token` is the credential. Sessions as "
    "50-minute events (their number, never their notes), active reminders as recurring "
    "events at their local time in their own time zone. No diary text.",
    response_class=Response,
    responses={
        200: {
            "description": "The feed",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 422),
    },
)
async def calendar_feed(db: Reads, token: TokenParam, settings: SettingsDep) -> Response:
    content = await db.run(service.content, token, settings)
    # Writing the feed (its VTIMEZONEs most) is CPU work: kept off the event loop.
    body = await run_in_threadpool(feed.calendar, content, utcnow().date())
    return Response(body, media_type=feed.MEDIA_TYPE)
