"""Who is calling: the bearer token's login checked live in the database, and its role.

Expiry and signature are checked once per request (app.core.authentication); revocation
here, on every request, so that logout and erasure take effect at once.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.core.authentication import BearerSubject, Subject
from app.core.database.session import request_database
from app.core.errors import Forbidden, Unauthorized
from app.models.account import LoginSession, Role, User


@dataclass(frozen=True, slots=True)
class Caller:
    """What a diary request needs of its caller, without loading (and decrypting) the whole
    account on every request."""

    id: uuid.UUID
    role: Role
    timezone: str
    diary_version: int  # the account's change sequence (app.core.change_log)


# Built once (every request runs them): the account, provided the token's login is live.
_LIVE_LOGIN = (
    col(LoginSession.owner_id) == col(User.id),
    col(User.id) == bindparam("user_id"),
    col(LoginSession.id) == bindparam("login_session_id"),
    col(LoginSession.revoked_at).is_(None),
)
_CALLER = select(col(User.id), col(User.role), col(User.timezone), col(User.change_seq)).where(
    *_LIVE_LOGIN
)
_USER = select(User).where(*_LIVE_LOGIN)


def _login(subject: Subject) -> dict[str, object]:
    return {"user_id": subject.user_id, "login_session_id": subject.login_session_id}


def caller_of(session: Session, subject: Subject) -> Caller:
    """The caller, provided its login has not been revoked and the account still exists."""
    # On the session's connection: a column select needs none of the ORM's execution layer.
    found = session.connection().execute(_CALLER, _login(subject)).first()
    if found is None:
        raise Unauthorized("The access token is no longer valid")
    return Caller(*found)


def user_of(session: Session, subject: Subject) -> User:
    """The caller's whole account (for /v1/me and a therapist's name in the audit log)."""
    user = session.exec(_USER, params=_login(subject)).first()
    if user is None:
        raise Unauthorized("The access token is no longer valid")
    return user


async def authenticated_client(request: Request, subject: Subject) -> Caller:
    """The calling client account (for app.core.scoping's ClientScope, the one dependency
    of a diary route: each dependency FastAPI solves costs ~2% of a read)."""
    caller = await request_database(request).run(caller_of, subject)
    if caller.role is not Role.client:
        raise Forbidden("This endpoint is for client accounts")
    return caller


async def _current_user(request: Request, subject: BearerSubject) -> User:
    return await request_database(request).run(user_of, subject)


CurrentUser = Annotated[User, Depends(_current_user)]


async def _current_therapist(user: CurrentUser) -> User:
    if user.role is not Role.therapist:
        raise Forbidden("This endpoint is for therapist accounts")
    return user


CurrentTherapist = Annotated[User, Depends(_current_therapist)]
