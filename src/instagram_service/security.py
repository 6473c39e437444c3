"""Token encryption at rest (Fernet with key rotation) and API key hashing."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from instagram_service.errors import ServiceError
from instagram_service.settings import Settings

API_KEY_PREFIX = "igs_"


class EncryptionNotConfigured(ServiceError):
    status_code = 500


class TokenCipher:
    """Encrypts with the newest key, decrypts with any: list new keys first to rotate."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise EncryptionNotConfigured(
                "IGS_TOKEN_KEYS is empty: set at least one Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise EncryptionNotConfigured(
                f"IGS_TOKEN_KEYS holds an invalid Fernet key: {exc}"
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        return cls(settings.token_keys)

    def encrypt(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def decrypt(self, cipher: bytes) -> str:
        try:
            return self._fernet.decrypt(cipher).decode()
        except InvalidToken as exc:
            raise _undecryptable() from exc

    def rotate(self, cipher: bytes) -> bytes:
        """Re-encrypt with the newest key."""
        try:
            return self._fernet.rotate(cipher)
        except InvalidToken as exc:
            raise _undecryptable() from exc


def _undecryptable() -> EncryptionNotConfigured:
    return EncryptionNotConfigured(
        "a stored secret cannot be decrypted with IGS_TOKEN_KEYS (was a key removed?)"
    )


def generate_fernet_key() -> str:
    return Fernet.generate_key().decode()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random: a fast hash is safe here, unlike for passwords.
    return hashlib.sha256(key.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
