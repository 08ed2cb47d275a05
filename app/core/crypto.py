"""AES-256-GCM for free text at rest, with a key ring so keys can be rotated.

A stored value is `v1.<key id>.<base64url(nonce | ciphertext+tag)>`. The associated data
names the table, column, owner and row, so a ciphertext copied into another row, column or
account fails to decrypt (CorruptData) instead of yielding someone else's text.
"""

import base64
import binascii
import hashlib
import os
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.errors import ProblemError
from app.core.settings import Settings

VERSION = "v1"
NONCE_BYTES = 12
DERIVED_KEY_ID = "k0"
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class CorruptData(ProblemError):
    status, slug, title = 500, "stored-data-integrity", "Stored data failed its integrity check"


class KeyRing:
    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"active key {active!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != 32 or "." in key_id:
                raise ValueError(f"key {key_id!r} must be 32 bytes and its id must have no dot")
        self.keys = keys
        self.active = active

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        """ENCRYPTION_KEYS (`id:base64key,…`, the first one active), or one key derived
        from SECRET_KEY when none are configured."""
        configured = settings.encryption_keys.get_secret_value().strip()
        if not configured:
            secret = settings.secret_key.get_secret_value().encode()
            derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"ipt-diary fields")
            return cls({DERIVED_KEY_ID: derived.derive(secret)}, DERIVED_KEY_ID)
        keys: dict[str, bytes] = {}
        for item in configured.split(","):
            key_id, _, encoded = item.strip().partition(":")
            keys[key_id] = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return cls(keys, next(iter(keys)))

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        return {key_id: AESGCM(key) for key_id, key in self.keys.items()}

    def encrypt(self, plaintext: str, associated: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext.encode(), associated)
        payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.active}.{payload}"

    def key_id_of(self, stored: str) -> str | None:
        parts = stored.split(".", 2)
        return parts[1] if len(parts) == 3 and parts[0] == VERSION else None

    def decrypt(self, stored: str, associated: bytes) -> str:
        # Called for every encrypted value read (an export decrypts tens of thousands), so
        # the value is split once and decoded by binascii directly, as urlsafe_b64decode
        # would decode it (non-base64 characters are skipped, padding is added).
        version, _, rest = stored.partition(".")
        key_id, dot, payload = rest.partition(".")
        cipher = self._ciphers.get(key_id) if version == VERSION and dot else None
        if cipher is None:
            raise CorruptData("A stored value is not readable with the configured keys")
        raw = binascii.a2b_base64(
            payload.encode("ascii").translate(_URLSAFE_TO_STANDARD) + b"=" * (-len(payload) % 4)
        )
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated).decode()
        except InvalidTag as exc:
            raise CorruptData("A stored value does not belong where it was found") from exc


def fingerprint(keys: KeyRing) -> str:
    """Which keys are loaded, without revealing them (for logs and the CLI)."""
    return ",".join(
        f"{key_id}:{hashlib.sha256(key).hexdigest()[:8]}" for key_id, key in keys.keys.items()
    )
