import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.core.concurrency import IfMatchHeader, set_etag
from app.core.db import SessionDep, run_quick
from app.core.errors import ValidationFailed, problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.core.settings import SettingsDep
from app.core.timerange import TimeRangeDep
from app.emotions.vocabulary import normalise_label
from app.entries import service
from app.entries.schemas import EntryCreate, EntryPublic, EntryUpdate
from app.entries.service import EntryFilters
from app.safety import schemas as safety

router = APIRouter(prefix="/v1/entries", tags=["entries"])

# Routes are `async` and run their database work in one `run_quick` call (on the event loop
# for a SQLite read, else one threadpool hop): a sync route would cost a second hop, for
# FastAPI's response validation (bench/ANALYSIS.md).


async def entry_filters(
    occurred: TimeRangeDep,
    person_id: Annotated[uuid.UUID | None, Query(description="Entries naming this person")] = None,
    focus_area_id: uuid.UUID | None = None,
    emotion: Annotated[str | None, Query(max_length=60, description="An emotion label")] = None,
    mood_min: Annotated[int | None, Query(ge=0, le=10)] = None,
    mood_max: Annotated[int | None, Query(ge=0, le=10)] = None,
) -> EntryFilters:
    if emotion is not None:
        try:
            emotion = normalise_label(emotion)
        except ValueError as exc:
            raise ValidationFailed.for_field("query.emotion", str(exc)) from exc
    return EntryFilters(
        occurred=occurred,
        person_id=person_id,
        focus_area_id=focus_area_id,
        emotion=emotion,
        mood_min=mood_min,
        mood_max=mood_max,
    )


EntryFiltersDep = Annotated[EntryFilters, Depends(entry_filters)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Write a diary entry",
    description="`people` and `focus_area_id` must be the caller's own; an emotion's "
    "`person_id` must be one of the entry's people. A client may send its own `id` "
    "(offline creation). An entry with mood ≤ 1 returns a `safety` object: show its crisis "
    "resources at once.",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_entry(
    data: EntryCreate,
    scope: ClientScope,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> EntryPublic:
    entry = await run_quick(session, service.create, session, scope, data)
    set_etag(response, entry)
    entry.safety = safety.for_mood(entry.mood, settings)
    return entry


# The reads answer with the JSON the database wrote (app/entries/json_text.py): `response_model`
# documents it, and FastAPI neither validates nor serializes a `Response`.
JSON = "application/json"


@router.get(
    "",
    response_model=Page[EntryPublic],
    summary="List entries, newest first",
    description="Ordered by `occurred_at`, then `id`, both descending. `from` is inclusive, "
    "`to` exclusive. Follow `next_cursor` for the next page.",
    responses=problem_responses(401, 403, 422),
)
async def list_entries(
    scope: ClientScope,
    session: SessionDep,
    filters: EntryFiltersDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Response:
    body = await run_quick(
        session, service.page_json, session, scope, filters, limit=limit, cursor=cursor
    )
    return Response(body, media_type=JSON)


@router.get(
    "/{entry_id}",
    response_model=EntryPublic,
    summary="Read one entry",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_entry(entry_id: uuid.UUID, scope: ClientScope, session: SessionDep) -> Response:
    entry = await run_quick(session, service.get_json, session, scope, entry_id)
    response = Response(entry.body, media_type=JSON)
    set_etag(response, entry)
    return response


@router.patch(
    "/{entry_id}",
    summary="Change an entry",
    description="Send `If-Match` with the entry's ETag. `people` and `emotions`, when sent, "
    "replace the old lists.",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_entry(
    entry_id: uuid.UUID,
    changes: EntryUpdate,
    scope: ClientScope,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryPublic:
    entry = await run_quick(session, service.update, session, scope, entry_id, changes, if_match)
    set_etag(response, entry)
    entry.safety = safety.for_mood(entry.mood, settings)
    return entry


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an entry",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_entry(
    entry_id: uuid.UUID, scope: ClientScope, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    await run_quick(session, service.delete, session, scope, entry_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
