"""The one place that decides whether a therapist may read a client's data, and at which scope.

Every route under /v1/therapist/clients/{client_id} declares the mode `Writes` (its audit
row is written with the read) and depends on `ReadAccess` or `SummaryAccess`. An unlinked,
revoked or expired link is a 404 (the client's existence is not revealed); a link whose
scope does not cover the view is a 403. Each allowed read, and each denied one, is written
to the client's audit log in the request's transaction.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import and_
from sqlmodel import Session, col, select

from app.core.callers import CurrentTherapist
from app.core.database.session import request_database
from app.core.errors import Forbidden, NotFound
from app.core.scoping import OwnerScope
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
        select(Share.scope, User.timezone, User.change_seq)
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
    level, timezone, version = found
    scope = OwnerScope(client_id, include_private=False, timezone=timezone, version=version)
    return ClientAccess(scope=scope, level=ShareScope(level), therapist=therapist)


def _audit(session: Session, access: ClientAccess, action: str, outcome: str) -> None:
    session.add(
        AuditEvent(
            owner_id=access.scope.owner_id,
            therapist_id=access.therapist.id,
            therapist_name=access.therapist.display_name,
            action=action,
            outcome=outcome,
        )
    )
    session.flush()


def granted(
    session: Session, therapist: User, client_id: uuid.UUID, action: str, *, full: bool
) -> ClientAccess:
    """The therapist's access to the client's data, audited as `action`; `full`: the view
    needs a `full` share."""
    access = _resolve(session, therapist, client_id)
    if full and access.level is not ShareScope.full:
        _audit(session, access, action, "denied")
        raise ScopeDenied("This client shares summaries only")
    _audit(session, access, action, "ok")
    return access


def _action(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path)).removeprefix(CLIENT_PREFIX)


async def _summary_access(
    request: Request, client_id: uuid.UUID, therapist: CurrentTherapist
) -> ClientAccess:
    database = request_database(request)
    return await database.run(granted, therapist, client_id, _action(request), full=False)


async def _full_access(
    request: Request, client_id: uuid.UUID, therapist: CurrentTherapist
) -> ClientAccess:
    database = request_database(request)
    return await database.run(granted, therapist, client_id, _action(request), full=True)


SummaryAccess = Annotated[ClientAccess, Depends(_summary_access)]
ReadAccess = Annotated[ClientAccess, Depends(_full_access)]
