"""Tokens every portal form carries, so that another site cannot post one in the user's name.

Before login there is no session to bind a token to: the login form's token is an HMAC of a
random value the browser holds in its own cookie (a signed double submit), so a forged form
would need both. After login the token is an HMAC of the login session's id. Both are keyed
with the app's secret key, each under its own label.
"""

import hashlib
import hmac
import secrets
import uuid

from pydantic import SecretStr

from app.core.errors import Forbidden

LOGIN_COOKIE = "portal_login_nonce"


class CsrfRefused(Forbidden):
    """A form without its token, or with another one: nothing it asks is done."""

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. Nothing was changed: "
            "go back, reload the page and try again."
        )


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def _sign(secret_key: SecretStr, label: bytes, value: bytes) -> str:
    key = secret_key.get_secret_value().encode()
    return hmac.new(key, label + b"\x00" + value, hashlib.sha256).hexdigest()


def login_token(secret_key: SecretStr, nonce: str) -> str:
    return _sign(secret_key, b"portal-login", nonce.encode())


def session_token(secret_key: SecretStr, login_session_id: uuid.UUID) -> str:
    return _sign(secret_key, b"portal-session", login_session_id.bytes)


def check_login(secret_key: SecretStr, nonce: str | None, given: str) -> None:
    """The login form's token matches the nonce cookie the browser sent with it."""
    if not nonce:
        raise CsrfRefused
    _check(login_token(secret_key, nonce), given)


def check_session(secret_key: SecretStr, login_session_id: uuid.UUID, given: str) -> None:
    _check(session_token(secret_key, login_session_id), given)


def _check(expected: str, given: str) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused
