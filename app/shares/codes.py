"""Share codes: short enough to read aloud, long enough not to be guessed."""

import hashlib
import hmac
import secrets

from app.core.errors import ValidationFailed

# Crockford's base32: no I, L, O or U, so nothing is misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 10 × 5 bits = 50 bits of entropy
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(_READ_AS)
    if len(cleaned) != LENGTH or any(char not in ALPHABET for char in cleaned):
        raise ValidationFailed.for_field("body.code", "not a share code")
    return cleaned


def code_hash(code: str, secret: str) -> str:
    """Keyed, so a copy of the database alone does not let anyone brute-force live codes."""
    return hmac.new(secret.encode(), normalise(code).encode(), hashlib.sha256).hexdigest()
