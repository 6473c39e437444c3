"""X-Hub-Signature-256: Meta's HMAC-SHA256 of the raw request body, keyed by the app secret."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def hub_signature(body: bytes, app_secret: str) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hub_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of the header against the bytes as received (never re-encoded JSON:
    Meta signs its escaped form, so parsing and dumping again changes the signature)."""
    if not header or not app_secret:
        return False
    given = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(hub_signature(body, app_secret).encode(), given)
