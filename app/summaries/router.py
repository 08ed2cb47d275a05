import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.database.session import ReportReads
from app.core.errors import problem_responses
from app.core.scoping import ClientScope
from app.core.timerange import TimeRangeDep
from app.summaries import focus_areas, intervals, people, timeline
from app.summaries.answers import answer
from app.summaries.schemas import (
    BetweenSessions,
    Bucket,
    FocusAreaSummary,
    MoodByPerson,
    MoodTimeline,
)

router = APIRouter(prefix="/v1/summaries", tags=["summaries"])
PROBLEMS = problem_responses(401, 403, 422)

# A summary reads a whole diary, which takes milliseconds even on SQLite: `ReportReads`. Its
# answer is kept until the diary changes (app.summaries.answers).


@router.get(
    "/mood-by-person",
    response_model=MoodByPerson,
    summary="How mood goes with each person",
    description="For each person: mean mood of the entries that name them, of the entries "
    "that do not, and the difference (`delta`) with its 95% interval, with the most "
    "frequent emotions.",
    responses=PROBLEMS,
)
async def mood_by_person(
    db: ReportReads, request: Request, scope: ClientScope, time_range: TimeRangeDep
) -> Response:
    return await answer(request, db, scope, people.mood_by_person, time_range)


@router.get(
    "/mood-timeline",
    response_model=MoodTimeline,
    summary="Mood over time, by local day or week",
    description="Buckets are calendar days or Monday-based weeks. Each entry counts on its "
    "own local date: the date on the clock it was written by.",
    responses=PROBLEMS,
)
async def mood_timeline(
    db: ReportReads,
    request: Request,
    scope: ClientScope,
    time_range: TimeRangeDep,
    bucket: Annotated[Bucket, Query(description="`day` or `week`")] = Bucket.day,
) -> Response:
    return await answer(request, db, scope, timeline.mood_timeline, time_range, bucket)


@router.get(
    "/focus-areas",
    response_model=FocusAreaSummary,
    summary="Mood and its weekly trend per focus area",
    responses=PROBLEMS,
)
async def focus_area_summary(
    db: ReportReads, request: Request, scope: ClientScope, time_range: TimeRangeDep
) -> Response:
    return await answer(request, db, scope, focus_areas.focus_areas, time_range)


@router.get(
    "/between-sessions",
    response_model=BetweenSessions,
    summary="What happened between one therapy session and the next",
    description="The interval from the previous session to the given one (default: from the "
    "latest session on, open-ended), compared with the interval before it.",
    responses=problem_responses(401, 403, 404, 422),
)
async def between_sessions(
    db: ReportReads,
    request: Request,
    scope: ClientScope,
    session_id: Annotated[uuid.UUID | None, Query(description="A therapy session id")] = None,
) -> Response:
    return await answer(request, db, scope, intervals.between_sessions, session_id)
