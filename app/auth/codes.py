"""The single-use codes an account receives by mail, and therapist invitation codes: short
enough to type from a mail, stored only as a keyed hash (as share codes, app.shares.codes)."""

import hashlib
import hmac
import secrets

from app.core.settings import Settings

# Crockford's base32: no I, L, O or U, so nothing is misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 50 bits: with the throttles, beyond guessing within a code's life
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def code_hash(code: str, purpose: str, settings: Settings) -> str | None:
    """The keyed hash a code of this purpose is stored as; None for text that is no code.

    Keyed with SECRET_KEY, so a copy of the database alone does not let anyone try codes;
    the purpose is part of the hashed text, so a code only ever works for what it was sent for.
    """
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(_READ_AS)
    if len(cleaned) != LENGTH or any(char not in ALPHABET for char in cleaned):
        return None
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"{purpose}|{cleaned}".encode(), hashlib.sha256).hexdigest()
