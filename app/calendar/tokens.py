"""The secret in a calendar feed's address: 256 random bits, kept only as a keyed hash."""

import hashlib
import hmac
import re
import secrets

from app.core.settings import Settings

_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, URL-safe base64 without padding


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str, settings: Settings) -> str | None:
    """The keyed hash a token is stored as; None for text that is no token.

    Keyed with SECRET_KEY (as mailed codes, app.auth.codes), so a copy of the database
    alone does not let anyone check a token."""
    if not _SHAPE.fullmatch(token):
        return None
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"calendar|{token}".encode(), hashlib.sha256).hexdigest()
