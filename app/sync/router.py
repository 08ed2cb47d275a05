from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.database.session import Reads
from app.core.errors import problem_responses
from app.core.pagination import LimitParam
from app.core.responses import json_response
from app.core.scoping import ClientScope
from app.sync import service
from app.sync.schemas import SyncPage

router = APIRouter(prefix="/v1/sync", tags=["sync"])


@router.get(
    "",
    response_model=SyncPage,
    summary="Everything that changed since an anchor",
    description="Driven by the client's own change sequence, not by clocks: a row changed "
    "several times comes once, in its latest state; deletions come as tombstones. Omit "
    "`since` for everything. While `has_more` is true, call again with `next_anchor`.",
    responses=problem_responses(401, 403, 422),
)
async def sync(
    db: Reads,
    scope: ClientScope,
    since: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Opaque: a `next_anchor` this API issued to this account (any other "
            "value, or one ahead of the server, is a 422)",
        ),
    ] = None,
    limit: LimitParam = 50,
) -> Response:
    start = service.decode_anchor(since) if since is not None else 0
    # The change log and the rows it names come from one snapshot (the mode `Reads`).
    return json_response(await db.run(service.changes_since, scope, start, limit))
