"""The therapist's read-only view. Under /clients/{client_id} there are only GET routes, so
any other method is a 405; every route takes its access from app.therapist.access, and
declares `Writes`: the read is audited in its transaction."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.core.callers import CurrentTherapist
from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.responses import json_response
from app.core.settings import SettingsDep
from app.core.timerange import TimeRangeDep
from app.entries import service as entries
from app.entries.dependencies import EntryFiltersDep
from app.entries.schemas import EntryPublic
from app.export import service as export
from app.export.dependencies import FormatParam
from app.export.schemas import EXPORT_RESPONSES, ExportFormat
from app.focus_areas import service as focus_areas
from app.focus_areas.schemas import FocusAreaPublic
from app.measures import schedule as measure_schedule
from app.measures import service as measures
from app.measures.schemas import DueMeasures, MeasurePublic, Schedule
from app.models.access import ShareScope
from app.models.diary import FocusStatus
from app.people import service as people
from app.people.schemas import PersonPublic
from app.reports import service as reports
from app.reports.dependencies import FormatParam as BriefFormatParam
from app.reports.dependencies import SessionParam
from app.reports.schemas import BRIEF_DESCRIPTION, BRIEF_RESPONSES, BriefFormat
from app.safety import service as safety
from app.safety.schemas import SafetyEventPublic
from app.sessions import service as sessions
from app.sessions.schemas import TherapySessionPublic
from app.summaries import focus_areas as focus_area_summaries
from app.summaries import intervals, timeline
from app.summaries import people as person_summaries
from app.summaries.answers import answer
from app.summaries.schemas import (
    BetweenSessions,
    Bucket,
    FocusAreaSummary,
    MoodByPerson,
    MoodTimeline,
)
from app.therapist import service
from app.therapist.access import ReadAccess, SummaryAccess
from app.therapist.schemas import LinkedClient, LinkRequest

router = APIRouter(prefix="/v1/therapist", tags=["therapist (read-only)"])
client_router = APIRouter(
    prefix="/v1/therapist/clients/{client_id}", tags=["therapist (read-only)"]
)

FULL = problem_responses(401, 403, 404, 422)
SUMMARY = problem_responses(401, 403, 404, 422)


@router.post(
    "/links",
    status_code=status.HTTP_201_CREATED,
    summary="Redeem a client's share code",
    description="Codes are single-use. Five wrong codes within 15 minutes answer 429.",
    responses=problem_responses(401, 403, 413, 422, 429),
)
async def redeem_code(
    db: Writes, data: LinkRequest, therapist: CurrentTherapist, settings: SettingsDep
) -> LinkedClient:
    return await db.run(service.redeem, therapist, data.code, settings)


@router.get(
    "/clients",
    summary="Clients who currently share with you",
    responses=problem_responses(401, 403, 422),
)
async def list_clients(
    db: Reads, therapist: CurrentTherapist, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[LinkedClient]:
    items, next_cursor = await db.run(service.clients, therapist, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@client_router.get(
    "/entries",
    response_model=Page[EntryPublic],
    summary="A client's shared entries, newest first",
    responses=FULL,
)
async def client_entries(
    db: Writes,
    access: ReadAccess,
    filters: EntryFiltersDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Response:
    page = await db.run(entries.page, access.scope, filters, limit=limit, cursor=cursor)
    return json_response(page)


@client_router.get("/people", summary="A client's interpersonal inventory", responses=FULL)
async def client_people(
    db: Writes,
    access: ReadAccess,
    include_archived: bool = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PersonPublic]:
    rows, next_cursor = await db.run(
        people.page, access.scope, include_archived=include_archived, limit=limit, cursor=cursor
    )
    return Page(
        items=[PersonPublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get("/focus-areas", summary="A client's focus areas", responses=FULL)
async def client_focus_areas(
    db: Writes,
    access: ReadAccess,
    status_filter: Annotated[FocusStatus | None, Query(alias="status")] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[FocusAreaPublic]:
    items, next_cursor = await db.run(
        focus_areas.page, access.scope, status=status_filter, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@client_router.get("/sessions", summary="A client's therapy sessions", responses=FULL)
async def client_sessions(
    db: Writes, access: ReadAccess, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[TherapySessionPublic]:
    rows, next_cursor = await db.run(sessions.page, access.scope, limit=limit, cursor=cursor)
    return Page(
        items=[TherapySessionPublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get(
    "/measures", summary="A client's measures (PHQ-9, GAD-7, WSAS, EPDS)", responses=FULL
)
async def client_measures(
    db: Writes, access: ReadAccess, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[MeasurePublic]:
    rows, next_cursor = await db.run(measures.page, access.scope, limit=limit, cursor=cursor)
    return Page(
        items=[MeasurePublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get(
    "/measure-schedule",
    summary="A client's measure schedule, as agreed in therapy",
    description="A `full` share, like the measures.",
    responses=FULL,
)
async def client_measure_schedule(db: Writes, access: ReadAccess) -> Schedule:
    return await db.run(measure_schedule.read, access.scope)


@client_router.get(
    "/measures/due",
    summary="The measures due now under a client's schedule",
    description="A `full` share, like the measures: what `GET /v1/measures/due` answers the "
    "client.",
    responses=FULL,
)
async def client_due_measures(db: Writes, access: ReadAccess) -> DueMeasures:
    return await db.run(measure_schedule.due, access.scope)


@client_router.get(
    "/summaries/mood-by-person",
    response_model=MoodByPerson,
    summary="A client's mood by person",
    responses=SUMMARY,
)
async def client_mood_by_person(
    db: Writes, request: Request, access: SummaryAccess, time_range: TimeRangeDep
) -> Response:
    return await answer(request, db, access.scope, person_summaries.mood_by_person, time_range)


@client_router.get(
    "/summaries/mood-timeline",
    response_model=MoodTimeline,
    summary="A client's mood over time",
    responses=SUMMARY,
)
async def client_mood_timeline(
    db: Writes,
    request: Request,
    access: SummaryAccess,
    time_range: TimeRangeDep,
    bucket: Bucket = Bucket.day,
) -> Response:
    return await answer(request, db, access.scope, timeline.mood_timeline, time_range, bucket)


@client_router.get(
    "/summaries/focus-areas",
    response_model=FocusAreaSummary,
    summary="A client's mood per focus area",
    responses=SUMMARY,
)
async def client_focus_area_summary(
    db: Writes, request: Request, access: SummaryAccess, time_range: TimeRangeDep
) -> Response:
    return await answer(request, db, access.scope, focus_area_summaries.focus_areas, time_range)


@client_router.get(
    "/summaries/between-sessions",
    response_model=BetweenSessions,
    summary="A client's interval between two sessions",
    responses=SUMMARY,
)
async def client_between_sessions(
    db: Writes, request: Request, access: SummaryAccess, session_id: uuid.UUID | None = None
) -> Response:
    return await answer(request, db, access.scope, intervals.between_sessions, session_id)


@client_router.get(
    "/safety-events",
    summary="The safety notices the API gave a client, newest first",
    description="With either share scope; never those of private entries.",
    responses=SUMMARY,
)
async def client_safety_events(
    db: Writes, access: SummaryAccess, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[SafetyEventPublic]:
    items, next_cursor = await db.run(safety.page, access.scope, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@client_router.get(
    "/reports/session-brief",
    summary="A client's session brief, as HTML or PDF",
    description=f"{BRIEF_DESCRIPTION} With a `summaries` share, no text of any entry.",
    response_class=Response,
    responses=BRIEF_RESPONSES,
)
async def client_session_brief(
    db: Writes,
    request: Request,
    access: SummaryAccess,
    session_id: SessionParam = None,
    format: BriefFormatParam = BriefFormat.html,
) -> Response:
    full = access.level is ShareScope.full
    return await reports.download(request, db, access.scope, session_id, format, with_text=full)


@client_router.get(
    "/export",
    summary="Export what the client shares (no private entries)",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def client_export(
    db: Writes,
    access: ReadAccess,
    time_range: TimeRangeDep,
    format: FormatParam = ExportFormat.json,
) -> StreamingResponse:
    return export.download(db.session, access.scope, time_range, format)
