from typing import Annotated

from fastapi import APIRouter, Query

from app.core.db import SessionDep, run_quick
from app.core.errors import problem_responses
from app.core.pagination import LimitParam
from app.core.scoping import ClientScope
from app.sync import service
from app.sync.schemas import SyncPage

router = APIRouter(prefix="/v1/sync", tags=["sync"])


@router.get(
    "",
    summary="Everything that changed since an anchor",
    description="Driven by the client's own change sequence, not by clocks: a row changed "
    "several times comes once, in its latest state; deletions come as tombstones. Omit "
    "`since` for everything. While `has_more` is true, call again with `next_anchor`.",
    responses=problem_responses(401, 403, 422),
)
async def sync(
    scope: ClientScope,
    session: SessionDep,
    since: Annotated[str | None, Query(max_length=100, description="A `next_anchor`")] = None,
    limit: LimitParam = 50,
) -> SyncPage:
    start = service.decode_anchor(since) if since is not None else 0
    # One call for the database work (app.core.db.run_quick); a sync route would take a
    # second hop for validation.
    return await run_quick(session, service.changes_since, session, scope, start, limit)
