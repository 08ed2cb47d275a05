"""Passwords, access tokens and the dependencies that say who is calling."""

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.core.db import SessionDep, get_session, run_quick
from app.core.errors import Forbidden, Unauthorized
from app.core.settings import Settings, SettingsDep, app_settings
from app.models.account import LoginSession, Role, User
from app.models.base import utcnow

JWT_ALGORITHM = "HS256"

password_hash = PasswordHash((Argon2Hasher(),))
# Verifying against this when the account does not exist keeps response time the same,
# so timing does not reveal which emails are registered.
_DUMMY_HASH = password_hash.hash("not-a-real-password")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    return password_hash.verify(password, hashed or _DUMMY_HASH) and hashed is not None


def create_access_token(user: User, login_session_id: uuid.UUID, settings: Settings) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "sid": str(login_session_id),
        "role": user.role.value,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)


@functools.lru_cache(maxsize=4096)
def verified_claims(
    token: str, secret: str, audience: str, issuer: str
) -> tuple[uuid.UUID, uuid.UUID, int]:
    """(account id, login session id, expiry) of a token whose signature and claims were
    checked, remembered: an app sends the same token for up to an hour, and PyJWT checks
    the key itself again on every decode (~10% of an authenticated read). Only tokens that
    passed are remembered (an exception is not cached); expiry is checked on every use by
    `decode_access_token`, revocation by the login-session query."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[JWT_ALGORITHM],  # never "none", never an algorithm the token picks
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "aud", "iss", "sub", "sid"]},
    )
    return uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), int(claims["exp"])


def decode_access_token(token: str, settings: Settings) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        user_id, login_session_id, expires = verified_claims(
            token,
            settings.secret_key.get_secret_value(),
            settings.jwt_audience,
            settings.jwt_issuer,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthorized("The access token is invalid") from exc
    if expires <= time.time():  # as PyJWT: expired from the `exp` second on
        raise Unauthorized("The access token has expired")
    return user_id, login_session_id


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: what a diary request needs, without loading (and decrypting) the
    whole account on every request."""

    id: uuid.UUID
    role: Role
    timezone: str


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def _login_of(token: str | None, settings: Settings) -> dict[str, uuid.UUID]:
    """Parameters for `_LIVE_LOGIN`, from a bearer token that passed every check."""
    if not token:
        raise Unauthorized("Missing bearer token")
    user_id, login_session_id = decode_access_token(token, settings)
    return {"user_id": user_id, "login_session_id": login_session_id}


# Built once (every request runs them): the account, provided the token's login is live.
_LIVE_LOGIN = (
    col(LoginSession.owner_id) == col(User.id),
    col(User.id) == bindparam("user_id"),
    col(LoginSession.id) == bindparam("login_session_id"),
    col(LoginSession.revoked_at).is_(None),
)
_CALLER = select(col(User.id), col(User.role), col(User.timezone)).where(*_LIVE_LOGIN)
_USER = select(User).where(*_LIVE_LOGIN)


def caller_of(session: Session, token: str | None, settings: Settings) -> Caller:
    """The caller, provided its login has not been revoked and the account still exists."""
    # On the session's connection: a column select needs none of the ORM's execution layer.
    found = session.connection().execute(_CALLER, _login_of(token, settings)).first()
    if found is None:
        raise Unauthorized("The access token is no longer valid")
    return Caller(*found)


async def authenticated_client(request: Request, token: str | None) -> Caller:
    """The calling client account (for app.core.scoping's ClientScope, the one dependency
    of a diary route: each dependency FastAPI solves costs ~2% of a read)."""
    session = await get_session(request)
    settings = await app_settings(request)
    caller = await run_quick(session, caller_of, session, token, settings)
    if caller.role is not Role.client:
        raise Forbidden("This endpoint is for client accounts")
    return caller


def authenticated_user(session: SessionDep, token: BearerToken, settings: SettingsDep) -> User:
    """The caller's whole account (for /v1/me and a therapist's name in the audit log)."""
    user = session.exec(_USER, params=_login_of(token, settings)).first()
    if user is None:
        raise Unauthorized("The access token is no longer valid")
    return user


CurrentUser = Annotated[User, Depends(authenticated_user)]


async def _require_therapist(user: CurrentUser) -> User:
    if user.role is not Role.therapist:
        raise Forbidden("This endpoint is for therapist accounts")
    return user


CurrentTherapist = Annotated[User, Depends(_require_therapist)]
