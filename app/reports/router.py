from fastapi import APIRouter, Request
from starlette.responses import Response

from app.core.database.session import ReportReads
from app.core.scoping import ClientScope
from app.reports import service
from app.reports.dependencies import FormatParam, SessionParam
from app.reports.schemas import BRIEF_DESCRIPTION, BRIEF_RESPONSES, BriefFormat

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/session-brief",
    summary="The session brief, as HTML or PDF",
    description=BRIEF_DESCRIPTION,
    response_class=Response,
    responses=BRIEF_RESPONSES,
)
async def session_brief(
    db: ReportReads,
    request: Request,
    scope: ClientScope,
    session_id: SessionParam = None,
    format: FormatParam = BriefFormat.html,
) -> Response:
    return await service.download(request, db, scope, session_id, format, with_text=True)
