"""Business Login for Instagram: the authorize redirect and the signed `state`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode

from instagram_service.errors import BadRequest
from instagram_service.settings import Settings

STATE_TTL_S = 3600
# Set by the admin console to the state it started: the callback then sends that browser back
# to the console instead of answering JSON (path-scoped to the callback, HttpOnly, Lax).
BROWSER_STATE_COOKIE = "igs_oauth_state"
CONSOLE_RETURN = "/admin/accounts"


def _secret(settings: Settings) -> bytes:
    if settings.app_secret is None or settings.app_id is None:
        raise BadRequest("connecting needs IGS_APP_ID and IGS_APP_SECRET to be set")
    return settings.app_secret.get_secret_value().encode()


def make_state(settings: Settings) -> str:
    payload = f"{int(time.time())}.{secrets.token_urlsafe(12)}"
    mac = hmac.new(_secret(settings), payload.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{mac}"


def check_state(settings: Settings, state: str) -> None:
    try:
        issued, nonce, mac = state.split(".")
        age = time.time() - int(issued)
    except ValueError as exc:
        raise BadRequest("malformed OAuth state") from exc
    expected = hmac.new(_secret(settings), f"{issued}.{nonce}".encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest()[:32], mac):
        raise BadRequest("OAuth state does not match: start again from /api/v1/accounts/connect")
    if not 0 <= age <= STATE_TTL_S:
        raise BadRequest("OAuth state expired: start again from /api/v1/accounts/connect")


def authorize_url(settings: Settings, state: str | None = None) -> str:
    query = urlencode(
        {
            "client_id": settings.app_id or "",
            "redirect_uri": settings.oauth_redirect_uri,
            "response_type": "code",
            "scope": "instagram_business_basic",
            "state": state or make_state(settings),
        }
    )
    return f"{settings.authorize_url}?{query}"
