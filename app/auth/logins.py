"""Logins: password login with throttling, access and refresh tokens (rotated, a reused one
revokes its login), logout, and ending logins (API and portal alike)."""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.auth.schemas import TokenPair
from app.core.errors import TooManyRequests, Unauthorized
from app.core.security import create_access_token, verify_password
from app.core.settings import Settings
from app.models.account import LoginFailure, LoginSession, RefreshToken, User
from app.models.base import utcnow


class LoginFailed(Unauthorized):
    keeps_writes = True  # the failure just recorded must survive the error response


class RefreshTokenReused(Unauthorized):
    keeps_writes = True  # the revocation of the whole family must survive too


def authenticate(session: Session, email: str, password: str, settings: Settings) -> User:
    """The account these credentials open, unless it is throttled; a wrong password is
    counted against it (the API's login and the portal's share this)."""
    email = email.strip().lower()
    user = None
    if "\x00" not in email:  # no account has one, and PostgreSQL refuses it in a query
        user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is not None:
        refuse_while_throttled(session, user, settings)
    if user is None or not verify_password(password, user.password_hash):
        if user is not None:
            session.add(LoginFailure(owner_id=user.id))
            session.flush()
        raise LoginFailed("Incorrect email or password")
    session.exec(delete(LoginFailure).where(col(LoginFailure.owner_id) == user.id))
    return user


def login(session: Session, email: str, password: str, settings: Settings) -> TokenPair:
    user = authenticate(session, email, password, settings)
    login_session = LoginSession(owner_id=user.id)
    session.add(login_session)
    session.flush()
    return _issue_tokens(session, user, login_session.id, settings)


def refuse_while_throttled(session: Session, user: User, settings: Settings) -> None:
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    count, oldest = session.exec(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            col(LoginFailure.owner_id) == user.id, col(LoginFailure.failed_at) >= window_start
        )
    ).one()
    if count >= settings.login_max_failures and oldest is not None:
        # The window frees up when its oldest failure leaves it.
        retry_after = (oldest - window_start).total_seconds()
        raise TooManyRequests(
            "Too many failed logins for this account; try again later", int(retry_after) + 1
        )


@dataclass(frozen=True)
class _ParsedRefreshToken:
    owner_id: uuid.UUID
    token_id: uuid.UUID
    secret: bytes


def _encode_refresh_token(owner_id: uuid.UUID, token_id: uuid.UUID, secret: bytes) -> str:
    return base64.urlsafe_b64encode(owner_id.bytes + token_id.bytes + secret).decode().rstrip("=")


def _parse_refresh_token(token: str) -> _ParsedRefreshToken:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("The refresh token is invalid") from exc
    if len(raw) != 64:
        raise Unauthorized("The refresh token is invalid")
    return _ParsedRefreshToken(uuid.UUID(bytes=raw[:16]), uuid.UUID(bytes=raw[16:32]), raw[32:])


def _hash_secret(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


def _issue_tokens(
    session: Session, user: User, login_session_id: uuid.UUID, settings: Settings
) -> TokenPair:
    secret = secrets.token_bytes(32)
    refresh = RefreshToken(
        owner_id=user.id,
        session_id=login_session_id,
        secret_hash=_hash_secret(secret),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
    )
    session.add(refresh)
    session.flush()
    return TokenPair(
        access_token=create_access_token(user, login_session_id, settings),
        expires_in=settings.access_token_minutes * 60,
        refresh_token=_encode_refresh_token(user.id, refresh.id, secret),
    )


def _find_refresh_token(session: Session, token: str) -> tuple[RefreshToken, LoginSession]:
    parsed = _parse_refresh_token(token)
    found = session.exec(
        select(RefreshToken, LoginSession)
        .join(
            LoginSession,
            (col(LoginSession.owner_id) == col(RefreshToken.owner_id))
            & (col(LoginSession.id) == col(RefreshToken.session_id)),
        )
        .where(
            col(RefreshToken.owner_id) == parsed.owner_id,
            col(RefreshToken.id) == parsed.token_id,
        )
    ).first()
    if found is None or not hmac.compare_digest(found[0].secret_hash, _hash_secret(parsed.secret)):
        raise Unauthorized("The refresh token is invalid")
    return found


def revoke_login(session: Session, login_session: LoginSession) -> None:
    """End a login (the API's or the portal's): its tokens or its cookie stop working."""
    session.exec(
        update(LoginSession)
        .where(
            col(LoginSession.owner_id) == login_session.owner_id,
            col(LoginSession.id) == login_session.id,
            col(LoginSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


def refresh(session: Session, token: str, settings: Settings) -> TokenPair:
    stored, login_session = _find_refresh_token(session, token)
    if login_session.revoked_at is not None:
        raise Unauthorized("This login has been revoked")
    if stored.expires_at <= utcnow():
        raise Unauthorized("The refresh token has expired")
    # Spend it with a conditional update, so two concurrent refreshes cannot both win.
    spent = session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.owner_id) == stored.owner_id,
            col(RefreshToken.id) == stored.id,
            col(RefreshToken.spent_at).is_(None),
        )
        .values(spent_at=utcnow())
    )
    if spent.rowcount != 1:
        revoke_login(session, login_session)
        raise RefreshTokenReused(
            "This refresh token was already used; the login has been revoked for safety"
        )
    user = session.get_one(User, stored.owner_id)
    return _issue_tokens(session, user, login_session.id, settings)


def logout(session: Session, token: str) -> None:
    _, login_session = _find_refresh_token(session, token)
    revoke_login(session, login_session)


def revoke_logins(session: Session, owner_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    """End the account's logins (API and portal), all but `keep`."""
    conditions = [col(LoginSession.owner_id) == owner_id, col(LoginSession.revoked_at).is_(None)]
    if keep is not None:
        conditions.append(col(LoginSession.id) != keep)
    session.exec(update(LoginSession).where(*conditions).values(revoked_at=utcnow()))
