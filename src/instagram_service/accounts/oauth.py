"""Business Login for Instagram: the authorize redirect and its single-use `state`.

A state is a random value stored (hashed) server-side with who started the flow and when it
expires; the callback takes it out in one statement, so a state completes at most one
connection, within STATE_TTL, and only for its owner when the callback knows who is calling.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import utcnow
from instagram_service.errors import BadRequest, UpstreamError
from instagram_service.instagram.client import InstagramClient
from instagram_service.instagram.errors import InstagramError
from instagram_service.instagram.schemas import LongLivedToken
from instagram_service.models import OAuthState
from instagram_service.settings import Settings

STATE_TTL = timedelta(minutes=10)
START_AGAIN = "start again from /api/v1/accounts/connect"
# Set by the admin console to the state it started: the callback then sends that browser back
# to the console instead of answering JSON (path-scoped to the callback, HttpOnly, Lax).
BROWSER_STATE_COOKIE = "igs_oauth_state"
CONSOLE_RETURN = "/admin/accounts"
CONSOLE_OWNER = "console:"  # owner prefix of states started from a console session


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _check_configured(settings: Settings) -> None:
    if settings.app_secret is None or settings.app_id is None:
        raise BadRequest("connecting needs IGS_APP_ID and IGS_APP_SECRET to be set")


async def start_login(session: AsyncSession, settings: Settings, owner: str) -> str:
    """Records a new state for `owner` and returns Instagram's authorize URL carrying it."""
    _check_configured(settings)
    now = utcnow()
    await session.execute(delete(OAuthState).where(OAuthState.expires_at <= now))
    state = secrets.token_urlsafe(32)
    session.add(OAuthState(state_hash=_hash(state), owner=owner, expires_at=now + STATE_TTL))
    await session.flush()
    query = urlencode(
        {
            "client_id": settings.app_id or "",
            "redirect_uri": settings.oauth_redirect_uri,
            "response_type": "code",
            "scope": "instagram_business_basic",
            "state": state,
        }
    )
    return f"{settings.authorize_url}?{query}"


async def take_state(session: AsyncSession, state: str, owner: str | None = None) -> str:
    """Uses up `state` and returns its owner. Unknown, used, expired, or (when `owner` is
    given) someone else's: BadRequest. A foreign state is used up too: it was exposed."""
    row = (
        await session.execute(
            delete(OAuthState)
            .where(OAuthState.state_hash == _hash(state))
            .returning(OAuthState.owner, OAuthState.expires_at)
        )
    ).first()
    if row is None:
        raise BadRequest(f"this OAuth state is unknown or was already used: {START_AGAIN}")
    if row.expires_at <= utcnow():
        raise BadRequest(f"this OAuth state expired: {START_AGAIN}")
    if owner is not None and row.owner != owner:
        raise BadRequest(f"this OAuth state was started by someone else: {START_AGAIN}")
    return str(row.owner)


async def exchange_login_code(
    client: InstagramClient, code: str, redirect_uri: str
) -> LongLivedToken:
    """The callback's code traded for a long-lived token. Instagram refusing it (a bad or
    used code) is the caller's error, a 400; Instagram failing is a 502."""
    try:
        short = await client.exchange_code(code, redirect_uri)
        return await client.exchange_token(short.access_token)
    except InstagramError as exc:
        if exc.is_transient:
            raise UpstreamError(f"Instagram could not be reached: {exc.ig_message}") from exc
        raise BadRequest(f"Instagram refused the login code: {exc.ig_message}") from exc
