"""The therapist's read-only view. Under /clients/{client_id} there are only GET routes, so
any other method is a 405; every route takes its access from app.therapist.access."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse

from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.security import CurrentTherapist
from app.core.settings import SettingsDep
from app.core.timerange import TimeRangeDep
from app.entries import service as entries
from app.entries.router import EntryFiltersDep
from app.entries.schemas import EntryPublic
from app.export.router import EXPORT_RESPONSES, FormatParam, export_download
from app.export.schemas import ExportFormat
from app.focus_areas import service as focus_areas
from app.focus_areas.schemas import FocusAreaPublic
from app.measures import service as measures
from app.measures.schemas import MeasurePublic
from app.models.diary import FocusStatus
from app.people import service as people
from app.people.schemas import PersonPublic
from app.sessions import service as sessions
from app.sessions.schemas import TherapySessionPublic
from app.summaries import service as summaries
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
def redeem_code(
    data: LinkRequest,
    therapist: CurrentTherapist,
    session: SessionDep,
    settings: SettingsDep,
) -> LinkedClient:
    return service.redeem(session, therapist, data.code, settings)


@router.get(
    "/clients",
    summary="Clients who currently share with you",
    responses=problem_responses(401, 403, 422),
)
def list_clients(
    therapist: CurrentTherapist,
    session: SessionDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[LinkedClient]:
    items, next_cursor = service.clients(session, therapist, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@client_router.get("/entries", summary="A client's shared entries, newest first", responses=FULL)
def client_entries(
    access: ReadAccess,
    session: SessionDep,
    filters: EntryFiltersDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[EntryPublic]:
    items, next_cursor = entries.page(session, access.scope, filters, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@client_router.get("/people", summary="A client's interpersonal inventory", responses=FULL)
def client_people(
    access: ReadAccess,
    session: SessionDep,
    include_archived: bool = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PersonPublic]:
    rows, next_cursor = people.page(
        session, access.scope, include_archived=include_archived, limit=limit, cursor=cursor
    )
    return Page(
        items=[PersonPublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get("/focus-areas", summary="A client's focus areas", responses=FULL)
def client_focus_areas(
    access: ReadAccess,
    session: SessionDep,
    status_filter: Annotated[FocusStatus | None, Query(alias="status")] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[FocusAreaPublic]:
    items, next_cursor = focus_areas.page(
        session, access.scope, status=status_filter, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@client_router.get("/sessions", summary="A client's therapy sessions", responses=FULL)
def client_sessions(
    access: ReadAccess, session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[TherapySessionPublic]:
    rows, next_cursor = sessions.page(session, access.scope, limit=limit, cursor=cursor)
    return Page(
        items=[TherapySessionPublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get("/measures", summary="A client's PHQ-9 and GAD-7 results", responses=FULL)
def client_measures(
    access: ReadAccess, session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[MeasurePublic]:
    rows, next_cursor = measures.page(session, access.scope, limit=limit, cursor=cursor)
    return Page(
        items=[MeasurePublic.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@client_router.get(
    "/summaries/mood-by-person", summary="A client's mood by person", responses=SUMMARY
)
def client_mood_by_person(
    access: SummaryAccess, session: SessionDep, time_range: TimeRangeDep
) -> MoodByPerson:
    return summaries.mood_by_person(session, access.scope, time_range)


@client_router.get(
    "/summaries/mood-timeline", summary="A client's mood over time", responses=SUMMARY
)
def client_mood_timeline(
    access: SummaryAccess,
    session: SessionDep,
    time_range: TimeRangeDep,
    bucket: Bucket = Bucket.day,
) -> MoodTimeline:
    return summaries.mood_timeline(session, access.scope, time_range, bucket)


@client_router.get(
    "/summaries/focus-areas", summary="A client's mood per focus area", responses=SUMMARY
)
def client_focus_area_summary(
    access: SummaryAccess, session: SessionDep, time_range: TimeRangeDep
) -> FocusAreaSummary:
    return summaries.focus_areas(session, access.scope, time_range)


@client_router.get(
    "/summaries/between-sessions",
    summary="A client's interval between two sessions",
    responses=SUMMARY,
)
def client_between_sessions(
    access: SummaryAccess,
    session: SessionDep,
    session_id: uuid.UUID | None = None,
) -> BetweenSessions:
    return summaries.between_sessions(session, access.scope, session_id)


@client_router.get(
    "/export",
    summary="Export what the client shares (no private entries)",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
def client_export(
    access: ReadAccess,
    session: SessionDep,
    time_range: TimeRangeDep,
    format: FormatParam = ExportFormat.json,
) -> StreamingResponse:
    return export_download(session, access.scope, time_range, format)
