"""Accounts and logins: registration, password login with throttling, refresh rotation."""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.auth.schemas import TokenPair, UserRegister, UserUpdate
from app.core.database.problems import as_problems
from app.core.errors import Forbidden, TooManyRequests, Unauthorized
from app.core.scoping import OwnerScope
from app.core.security import create_access_token, hash_password, verify_password
from app.core.settings import Settings
from app.models.access import AuditArchive, AuditEvent
from app.models.account import LoginFailure, LoginSession, RefreshToken, User
from app.models.base import UTCDateTime, utcnow
from app.models.diary import Entry


class LoginFailed(Unauthorized):
    keeps_writes = True  # the failure just recorded must survive the error response


class RefreshTokenReused(Unauthorized):
    keeps_writes = True  # the revocation of the whole family must survive too


def register(session: Session, data: UserRegister) -> User:
    user = User(
        email=data.email.lower(),
        password_hash=hash_password(data.password),
        role=data.role,
        display_name=data.display_name,
        timezone=data.timezone,
    )
    session.add(user)
    with as_problems(session, conflict="An account with this email already exists"):
        session.flush()
    return user


def authenticate(session: Session, email: str, password: str, settings: Settings) -> User:
    """The account these credentials open, unless it is throttled; a wrong password is
    counted against it (the API's login and the portal's share this)."""
    email = email.strip().lower()
    user = None
    if "\x00" not in email:  # no account has one, and PostgreSQL refuses it in a query
        user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is not None:
        _refuse_while_throttled(session, user, settings)
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


def _refuse_while_throttled(session: Session, user: User, settings: Settings) -> None:
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


def update_profile(session: Session, user: User, changes: UserUpdate) -> User:
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, field, value)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


def erase_account(session: Session, user: User, password: str, settings: Settings) -> None:
    """Erase the account and everything it owns; tokens, shares and links go with it.

    Therapists' reads of this client's data are kept, pseudonymised (AuditArchive)."""
    if not verify_password(password, user.password_hash):
        raise Forbidden("The password does not match")
    pseudonym = hmac.new(
        settings.secret_key.get_secret_value().encode(), user.id.bytes, hashlib.sha256
    ).hexdigest()
    erased_at = utcnow()
    session.execute(
        insert(AuditArchive).from_select(
            ["client_pseudonym", "id", "at", "therapist_id", "action", "outcome", "erased_at"],
            sa_select(
                literal(pseudonym),
                col(AuditEvent.id),
                col(AuditEvent.at),
                col(AuditEvent.therapist_id),
                col(AuditEvent.action),
                col(AuditEvent.outcome),
                literal(erased_at, UTCDateTime()),
            ).where(col(AuditEvent.owner_id) == user.id),
        )
    )
    # Entries first: PostgreSQL checks the entry → person key while it cascades the people,
    # before it has reached the entries. Everything else goes with the account (CASCADE).
    session.execute(delete(Entry).where(*OwnerScope(user.id).conditions(Entry)))
    session.delete(user)
    session.flush()
