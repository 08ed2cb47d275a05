"""What the portal's pages show, read through the same services and access checks as the
API: a therapist's reads go through app.therapist.access (link, share scope, audit row)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.core.scoping import OwnerScope
from app.measures.instruments import REGISTRY
from app.models.account import User
from app.models.base import utcnow
from app.models.safety import SafetyEvent
from app.models.therapy import Measure
from app.reports import render
from app.reports import service as reports
from app.therapist import access
from app.therapist import service as therapist_service
from app.therapist.schemas import LinkedClient

# Audited like the API's brief route (its path under /v1/therapist/clients/{client_id}/).
BRIEF_ACTION = "reports/session-brief"
# The list shows each client's latest measures and safety flag: a read, audited as such.
LIST_ACTION = "portal/client-list"
PAGE_SIZE = 50  # clients in the list, events in the access log
# The safety flag: a safety event (mood ≤ 1, a measure's safety item > 0) recorded this recently.
SAFETY_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class LatestMeasure:
    name: str  # PHQ-9
    band: str  # its severity band, in words
    day: date  # in the therapist's zone


@dataclass(frozen=True, slots=True)
class ClientRow:
    client: LinkedClient
    measures: tuple[LatestMeasure, ...]  # each instrument's latest, in the registry's order
    safety_events: int  # recorded in the last SAFETY_WINDOW, none from private entries


def _latest_measures(
    session: Session, scope: OwnerScope, zone: ZoneInfo
) -> tuple[LatestMeasure, ...]:
    ranked = (
        sa_select(
            col(Measure.instrument),
            col(Measure.severity),
            col(Measure.completed_at),
            func.row_number()
            .over(
                partition_by=col(Measure.instrument),
                order_by=(col(Measure.completed_at).desc(), col(Measure.id).desc()),
            )
            .label("rank"),
        )
        .where(*scope.conditions(Measure))
        .subquery()
    )
    latest = {
        instrument: (severity, completed_at)
        for instrument, severity, completed_at in session.execute(
            sa_select(ranked.c.instrument, ranked.c.severity, ranked.c.completed_at).where(
                ranked.c.rank == 1
            )
        )
    }
    found = []
    for code, spec in REGISTRY.items():
        if code in latest:
            severity, completed_at = latest[code]
            day = completed_at.astimezone(zone).date()
            found.append(LatestMeasure(spec.name, severity.replace("_", " "), day))
    return tuple(found)


def client_list(
    session: Session, therapist: User, cursor: str | None
) -> tuple[list[ClientRow], str | None]:
    """The therapist's linked clients, newest link first, each read audited."""
    linked, next_cursor = therapist_service.clients(
        session, therapist, limit=PAGE_SIZE, cursor=cursor
    )
    zone = ZoneInfo(therapist.timezone)
    since = utcnow() - SAFETY_WINDOW
    rows = []
    for client in linked:
        scope = access.granted(session, therapist, client.client_id, LIST_ACTION, full=False).scope
        events = session.exec(
            select(func.count())
            .select_from(SafetyEvent)
            .where(*scope.conditions(SafetyEvent), col(SafetyEvent.at) >= since)
        ).one()
        rows.append(
            ClientRow(
                client=client,
                measures=_latest_measures(session, scope, zone),
                safety_events=events,
            )
        )
    return rows, next_cursor


@dataclass(frozen=True, slots=True)
class BriefPaths:
    """Where a brief page lives in the portal: its intervals and its PDF link there."""

    page: str
    pdf: str

    def interval(self, session_id: uuid.UUID | None) -> str:
        return self.page if session_id is None else f"{self.page}?session_id={session_id}"

    def pdf_of(self, session_id: uuid.UUID | None) -> str:
        return self.pdf if session_id is None else f"{self.pdf}?session_id={session_id}"


def brief_body(
    session: Session,
    scope: OwnerScope,
    session_id: uuid.UUID | None,
    with_text: bool,
    day: date,
    paths: BriefPaths,
) -> bytes:
    """The brief's sections for a portal page, linked to its other intervals and its PDF;
    a function of the diary's version and the day, like the API's (app.reports.service)."""
    made = reports.build_for_day(session, scope, session_id, with_text, day)
    links = render.BriefLinks(pdf=paths.pdf_of(session_id), interval=paths.interval)
    return render.brief_body(made, links).encode()
