import uuid

from fastapi import APIRouter, Response, status

from app.core.database.session import Reads, Writes
from app.core.errors import problem_responses
from app.core.pagination import CursorParam, LimitParam, Page
from app.core.scoping import ClientScope
from app.core.settings import SettingsDep
from app.shares import service
from app.shares.schemas import AuditEventPublic, ShareCreate, ShareCreated, SharePublic

router = APIRouter(prefix="/v1/shares", tags=["sharing with a therapist"])
access_log_router = APIRouter(prefix="/v1/access-log", tags=["sharing with a therapist"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Let a therapist read your diary: get a one-time code",
    description="Give the `code` to your therapist; it must be redeemed within 72 hours (or "
    "before `expires_at`). `expires_at` also ends the therapist's access. Private entries "
    "are never shared.",
    responses=problem_responses(401, 403, 413, 422),
)
async def create_share(
    db: Writes, data: ShareCreate, scope: ClientScope, settings: SettingsDep
) -> ShareCreated:
    return await db.run(service.create, scope, data, settings)


@router.get("", summary="Your shares and their status", responses=problem_responses(401, 403, 422))
async def list_shares(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[SharePublic]:
    items, next_cursor = await db.run(service.page, scope, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.delete(
    "/{share_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a share at once",
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_share(db: Writes, share_id: uuid.UUID, scope: ClientScope) -> Response:
    await db.run(service.revoke, scope, share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@access_log_router.get(
    "",
    summary="Who read your data, and when",
    description="Every read by a therapist, newest first. Kept after a share is revoked.",
    responses=problem_responses(401, 403, 422),
)
async def read_access_log(
    db: Reads, scope: ClientScope, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[AuditEventPublic]:
    items, next_cursor = await db.run(service.access_log, scope, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
