"""Passwords and access tokens."""

import functools
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.errors import Unauthorized
from app.core.settings import Settings
from app.models.account import User
from app.models.base import utcnow

JWT_ALGORITHM = "HS256"

password_hash = PasswordHash((Argon2Hasher(),))
# Verifying against this when the account does not exist keeps response time the same,
# so timing does not reveal which emails are registered.
_DUMMY_HASH = password_hash.hash("not-a-real-password")


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
