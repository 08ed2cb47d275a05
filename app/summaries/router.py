import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.database.session import ReportReads
from app.core.errors import problem_responses
from app.core.scoping import ClientScope
from app.core.timerange import TimeRangeDep
from app.summaries import focus_areas, intervals, people, timeline
from app.summaries.schemas import (
    BetweenSessions,
    Bucket,
    FocusAreaSummary,
    MoodByPerson,
    MoodTimeline,
)

router = APIRouter(prefix="/v1/summaries", tags=["summaries"])
PROBLEMS = problem_responses(401, 403, 422)

# A summary reads a whole diary, which takes milliseconds even on SQLite: `ReportReads`.


@router.get(
    "/mood-by-person",
    summary="How mood goes with each person",
    description="For each person: mean mood of the entries that name them, of the entries "
    "that do not, and the difference (`delta`), with the most frequent emotions.",
    responses=PROBLEMS,
)
async def mood_by_person(
    db: ReportReads, scope: ClientScope, time_range: TimeRangeDep
) -> MoodByPerson:
    return await db.run(people.mood_by_person, scope, time_range)


@router.get(
    "/mood-timeline",
    summary="Mood over time, by local day or week",
    description="Buckets are calendar days or Monday-based weeks in the client's time zone.",
    responses=PROBLEMS,
)
async def mood_timeline(
    db: ReportReads,
    scope: ClientScope,
    time_range: TimeRangeDep,
    bucket: Annotated[Bucket, Query(description="`day` or `week`")] = Bucket.day,
) -> MoodTimeline:
    return await db.run(timeline.mood_timeline, scope, time_range, bucket)


@router.get(
    "/focus-areas",
    summary="Mood and its weekly trend per focus area",
    responses=PROBLEMS,
)
async def focus_area_summary(
    db: ReportReads, scope: ClientScope, time_range: TimeRangeDep
) -> FocusAreaSummary:
    return await db.run(focus_areas.focus_areas, scope, time_range)


@router.get(
    "/between-sessions",
    summary="What happened between one therapy session and the next",
    description="The interval from the previous session to the given one (default: from the "
    "latest session on, open-ended), compared with the interval before it.",
    responses=problem_responses(401, 403, 404, 422),
)
async def between_sessions(
    db: ReportReads,
    scope: ClientScope,
    session_id: Annotated[uuid.UUID | None, Query(description="A therapy session id")] = None,
) -> BetweenSessions:
    return await db.run(intervals.between_sessions, scope, session_id)
