"""The one place that decides whether a therapist may read a client's data, and at which scope.

Every route under /v1/therapist/clients/{client_id} depends on `ReadAccess` or
`SummaryAccess`. An unlinked, revoked or expired link is a 404 (the client's existence is
not revealed); a link whose scope does not cover the view is a 403. Each allowed read, and
each denied one, is written to the client's audit log in the request's transaction.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import and_
from sqlmodel import Session, col, select

from app.core.db import SessionDep
from app.core.errors import Forbidden, NotFound
from app.core.scoping import OwnerScope
from app.core.security import CurrentTherapist
from app.models.access import AuditEvent, Share, ShareScope, TherapistLink
from app.models.account import User
from app.models.base import utcnow
from app.shares.service import grants_access

CLIENT_PREFIX = "/v1/therapist/clients/{client_id}/"


@dataclass(frozen=True, slots=True)
class ClientAccess:
    scope: OwnerScope  # the client's diary without private entries
    level: ShareScope
    therapist: User


class ScopeDenied(Forbidden):
    keeps_writes = True  # the denied attempt stays in the client's audit log


def _resolve(session: Session, therapist: User, client_id: uuid.UUID) -> ClientAccess:
    found = session.exec(
        select(Share.scope, User.timezone)
        .select_from(TherapistLink)
        .join(
            Share,
            and_(
                col(Share.owner_id) == col(TherapistLink.client_id),
                col(Share.id) == col(TherapistLink.share_id),
            ),
        )
        .join(User, col(User.id) == col(TherapistLink.client_id))
        .where(
            col(TherapistLink.owner_id) == therapist.id,
            col(TherapistLink.client_id) == client_id,
            grants_access(utcnow()),
        )
    ).first()
    if found is None:
        raise NotFound(f"No client with id {client_id}")
    level, timezone = found
    scope = OwnerScope(owner_id=client_id, include_private=False, timezone=timezone)
    return ClientAccess(scope=scope, level=ShareScope(level), therapist=therapist)


def _audit(session: Session, request: Request, access: ClientAccess, outcome: str) -> None:
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    session.add(
        AuditEvent(
            owner_id=access.scope.owner_id,
            therapist_id=access.therapist.id,
            therapist_name=access.therapist.display_name,
            action=template.removeprefix(CLIENT_PREFIX),
            outcome=outcome,
        )
    )
    session.flush()


def _summary_access(
    client_id: uuid.UUID, therapist: CurrentTherapist, session: SessionDep, request: Request
) -> ClientAccess:
    access = _resolve(session, therapist, client_id)
    _audit(session, request, access, "ok")
    return access


def _full_access(
    client_id: uuid.UUID, therapist: CurrentTherapist, session: SessionDep, request: Request
) -> ClientAccess:
    access = _resolve(session, therapist, client_id)
    if access.level is not ShareScope.full:
        _audit(session, request, access, "denied")
        raise ScopeDenied("This client shares summaries only")
    _audit(session, request, access, "ok")
    return access


SummaryAccess = Annotated[ClientAccess, Depends(_summary_access)]
ReadAccess = Annotated[ClientAccess, Depends(_full_access)]
