"""The session brief as the API and the portal serve it: HTML or PDF, made at most once per
version of the diary and day (app.summaries.answers), in the threadpool (charts and the
PDF take tens to hundreds of milliseconds)."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlmodel import Session
from starlette.responses import Response

from app.core.database.session import RequestDatabase
from app.core.scoping import OwnerScope
from app.reports import brief, render
from app.reports.brief_data import Brief
from app.reports.schemas import MEDIA_TYPES, BriefFormat
from app.summaries.answers import kept


def today(scope: OwnerScope) -> date:
    """The day in the account's zone: the open interval runs up to its end."""
    return datetime.now(UTC).astimezone(ZoneInfo(scope.timezone)).date()


def build_for_day(
    session: Session, scope: OwnerScope, session_id: uuid.UUID | None, with_text: bool, day: date
) -> Brief:
    """The brief as of the end of `day` in the account's zone: a function of the diary's
    version and the day, so its rendering can be kept (app.summaries.answers)."""
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(scope.timezone))
    return brief.build(session, scope, session_id, with_text=with_text, now=end_of_day)


def document(
    session: Session,
    scope: OwnerScope,
    session_id: uuid.UUID | None,
    with_text: bool,
    day: date,
    brief_format: BriefFormat,
) -> bytes:
    """The brief as a document that stands alone (no links: it is read where it lands)."""
    made = build_for_day(session, scope, session_id, with_text, day)
    if brief_format is BriefFormat.pdf:
        return render.brief_pdf(made)
    return render.brief_document(made, render.BriefLinks(pdf=None, interval=None)).encode()


async def download(
    request: Request,
    db: RequestDatabase,
    scope: OwnerScope,
    session_id: uuid.UUID | None,
    brief_format: BriefFormat,
    *,
    with_text: bool,
) -> Response:
    """The brief's HTML (to show) or PDF (to download)."""
    day = today(scope)
    body = await kept(request, db, scope, document, session_id, with_text, day, brief_format)
    headers = {}
    if brief_format is BriefFormat.pdf:
        name = f"session-brief-{day:%Y-%m-%d}.pdf"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=MEDIA_TYPES[brief_format], headers=headers)
