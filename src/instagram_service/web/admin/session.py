"""Console sessions: a signed cookie naming the API key that logged in, and a CSRF token.

The cookie holds no key, only its id: each request looks the key up again, so revoking it
ends its sessions at once. The signature (itsdangerous, HMAC-SHA1 over a key derived from
IGS_ADMIN_SESSION_SECRET) carries the issue time; a session older than
IGS_ADMIN_SESSION_HOURS is refused even if the browser kept the cookie.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from instagram_service.settings import Settings

COOKIE = "igs_admin"
COOKIE_PATH = "/"  # the OAuth callback (/api/v1/accounts/callback) reads it too
SALT = "igs-admin-session"


@dataclass(frozen=True)
class AdminSession:
    csrf: str
    key_id: int | None = None  # None: not logged in (the login form's CSRF token only)
    connect_state: str | None = None  # the OAuth state this session started, if any
    # When it signed in (Unix time, kept when the cookie is rewritten): a logout ends the
    # key's sessions signed in before it (ApiKey.sessions_ended_at), copies of the cookie too.
    signed_in_at: float = 0.0

    def dump(self) -> dict[str, Any]:
        return {"c": self.csrf, "k": self.key_id, "s": self.connect_state, "t": self.signed_in_at}

    def ended_by(self, ended_at: datetime | None) -> bool:
        return ended_at is not None and self.signed_in_at <= ended_at.timestamp()


def new_session(key_id: int | None = None) -> AdminSession:
    return AdminSession(csrf=secrets.token_urlsafe(24), key_id=key_id, signed_in_at=time.time())


def _serializer(settings: Settings) -> URLSafeTimedSerializer | None:
    if settings.admin_session_secret is None:
        return None
    return URLSafeTimedSerializer(settings.admin_session_secret.get_secret_value(), salt=SALT)


def max_age_s(settings: Settings) -> int:
    return int(settings.admin_session_hours * 3600)


def read_session(request: Request, settings: Settings) -> AdminSession | None:
    """The request's valid session, or None (missing, forged, expired, console off)."""
    serializer = _serializer(settings)
    raw = request.cookies.get(COOKIE)
    if serializer is None or not raw:
        return None
    try:
        data = serializer.loads(raw, max_age=max_age_s(settings))
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    key_id = data.get("k")
    state = data.get("s")
    signed_in_at = data.get("t")
    return AdminSession(
        csrf=data["c"],
        key_id=key_id if isinstance(key_id, int) else None,
        connect_state=state if isinstance(state, str) else None,
        signed_in_at=float(signed_in_at) if isinstance(signed_in_at, int | float) else 0.0,
    )


def is_https(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.public_base_url.startswith("https://")


def write_session(
    response: Response, request: Request, settings: Settings, session: AdminSession
) -> None:
    serializer = _serializer(settings)
    assert serializer is not None
    response.set_cookie(
        COOKIE,
        serializer.dumps(session.dump()),
        max_age=max_age_s(settings),
        path=COOKIE_PATH,
        httponly=True,
        # Lax, not Strict: Instagram's redirect back to the callback is a cross-site
        # navigation, and the callback must see whose connection it finishes. Changes are
        # protected by the CSRF token and the Origin check instead (csrf.py).
        samesite="lax",
        secure=is_https(request, settings),
    )


def clear_session(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request, settings)
    )


def sign(settings: Settings, salt: str, data: Any) -> str:
    """Sign (and compress) small data kept in a cookie of the console's own."""
    serializer = _serializer(settings)
    assert serializer is not None
    return serializer.dumps(data, salt=salt)


def unsign(settings: Settings, salt: str, raw: str | None) -> Any:
    serializer = _serializer(settings)
    if serializer is None or not raw:
        return None
    try:
        return serializer.loads(raw, salt=salt, max_age=max_age_s(settings))
    except BadSignature:
        return None
