import uuid

from fastapi import APIRouter, Response, status

from app.core.concurrency import IfMatchHeader, etag_of
from app.core.database.session import LatestReads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.responses import json_response
from app.core.scoping import ClientScope
from app.core.settings import SettingsDep
from app.entries import service
from app.entries.dependencies import EntryFiltersDep
from app.entries.schemas import EntryCreate, EntryPublic, EntryUpdate

router = APIRouter(prefix="/v1/entries", tags=["entries"])

# Every answer that carries an entry is the JSON the projection wrote
# (app/entries/projection.py, app/core/responses.py). Entry reads need no snapshot: a
# change in between shows the newer entry, or one fewer.


def _entry_response(entry: service.EntryJson, status_code: int = 200) -> Response:
    return json_response(entry.body, status_code, headers={"ETag": etag_of(entry)})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryPublic,
    summary="Write a diary entry",
    description="`people` and `focus_area_id` must be the caller's own; an emotion's "
    "`person_id` must be one of the entry's people. A client may send its own `id` "
    "(offline creation). An entry with mood ≤ 1 returns a `safety` object: show its crisis "
    "resources at once.",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_entry(
    db: Writes, data: EntryCreate, scope: ClientScope, settings: SettingsDep
) -> Response:
    entry = await db.run(service.create, scope, data, settings)
    return _entry_response(entry, status.HTTP_201_CREATED)


@router.get(
    "",
    response_model=Page[EntryPublic],
    summary="List entries, newest first",
    description="Ordered by `occurred_at`, then `id`, both descending. `from` is inclusive, "
    "`to` exclusive. Follow `next_cursor` for the next page.",
    responses=problem_responses(401, 403, 422),
)
async def list_entries(
    db: LatestReads,
    scope: ClientScope,
    filters: EntryFiltersDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Response:
    body = await db.run(service.page, scope, filters, limit=limit, cursor=cursor)
    return json_response(body)


@router.get(
    "/{entry_id}",
    response_model=EntryPublic,
    summary="Read one entry",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_entry(db: LatestReads, entry_id: uuid.UUID, scope: ClientScope) -> Response:
    return _entry_response(await db.run(service.get_json, scope, entry_id))


@router.patch(
    "/{entry_id}",
    response_model=EntryPublic,
    summary="Change an entry",
    description="Send `If-Match` with the entry's ETag. `people` and `emotions`, when sent, "
    "replace the old lists.",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_entry(
    db: Writes,
    entry_id: uuid.UUID,
    changes: EntryUpdate,
    scope: ClientScope,
    settings: SettingsDep,
    if_match: IfMatchHeader = None,
) -> Response:
    entry = await db.run(service.update, scope, entry_id, changes, if_match, settings)
    return _entry_response(entry)


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an entry",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_entry(
    db: Writes, entry_id: uuid.UUID, scope: ClientScope, if_match: IfMatchHeader = None
) -> Response:
    await db.run(service.delete, scope, entry_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
