"""Portal logins: a login session (app.models.account.LoginSession, revoked like the API's)
that a browser holds in a cookie.

The cookie carries the account's id, the login's id and a random secret; the database keeps
only the secret's sha256, so a copy of the database opens no portal. A login unused for
`portal_idle_hours` (Settings) is over; logout revokes it.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.auth.logins import revoke_login
from app.core.errors import Unauthorized
from app.models.account import LoginSession, Role, User
from app.models.base import utcnow

COOKIE = "portal_session"
_ID_BYTES, _SECRET_BYTES = 16, 32


class SignInReason(StrEnum):
    """Why the login page is shown again: its message, by name (no text from the URL)."""

    required = "required"
    expired = "expired"
    ended = "ended"
    signed_out = "signed_out"


class SignInRequired(Unauthorized):
    """No live portal login: the portal answers with the login page (app.portal.router)."""

    def __init__(self, reason: SignInReason) -> None:
        super().__init__(f"Sign in required ({reason})")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PortalLogin:
    user: User
    login_session_id: uuid.UUID

    @property
    def is_therapist(self) -> bool:
        return self.user.role is Role.therapist


def _hash(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


def open_login(session: Session, user: User) -> str:
    """A new portal login for the account; the cookie's value (shown only now)."""
    secret = secrets.token_bytes(_SECRET_BYTES)
    login = LoginSession(owner_id=user.id, portal_secret_hash=_hash(secret), last_seen_at=utcnow())
    session.add(login)
    session.flush()
    raw = user.id.bytes + login.id.bytes + secret
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse(cookie: str) -> tuple[uuid.UUID, uuid.UUID, bytes] | None:
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * _ID_BYTES + _SECRET_BYTES:
        return None
    owner, login = raw[:_ID_BYTES], raw[_ID_BYTES : 2 * _ID_BYTES]
    return uuid.UUID(bytes=owner), uuid.UUID(bytes=login), raw[2 * _ID_BYTES :]


def find_login(session: Session, cookie: str | None, idle_expiry: timedelta) -> PortalLogin:
    """The live portal login this cookie holds, or SignInRequired saying why not."""
    parsed = _parse(cookie) if cookie else None
    if parsed is None:
        raise SignInRequired(SignInReason.required)
    owner_id, login_id, secret = parsed
    found = session.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == col(LoginSession.owner_id))
        .where(col(LoginSession.owner_id) == owner_id, col(LoginSession.id) == login_id)
    ).first()
    if found is None:
        raise SignInRequired(SignInReason.required)
    login, user = found
    stored = login.portal_secret_hash
    if stored is None or not hmac.compare_digest(stored, _hash(secret)):
        raise SignInRequired(SignInReason.required)
    if login.revoked_at is not None:
        raise SignInRequired(SignInReason.ended)
    if login.last_seen_at is None or login.last_seen_at <= utcnow() - idle_expiry:
        raise SignInRequired(SignInReason.expired)
    return PortalLogin(user=user, login_session_id=login.id)


def use_login(session: Session, cookie: str | None, idle_expiry: timedelta) -> PortalLogin:
    """The live portal login, its idle time started again (in the request's transaction)."""
    login = find_login(session, cookie, idle_expiry)
    session.exec(
        update(LoginSession)
        .where(
            col(LoginSession.owner_id) == login.user.id,
            col(LoginSession.id) == login.login_session_id,
        )
        .values(last_seen_at=utcnow())
    )
    return login


def close_login(session: Session, login: PortalLogin) -> None:
    revoke_login(session, session.get_one(LoginSession, (login.user.id, login.login_session_id)))
