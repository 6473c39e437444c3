"""Log in with an API key, log out."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from instagram_service.apikeys.service import find_active_key
from instagram_service.db import utcnow
from instagram_service.deps import SessionDep, SettingsDep
from instagram_service.errors import Forbidden
from instagram_service.models import ApiKey
from instagram_service.web.admin import csrf
from instagram_service.web.admin.render import page, safe_next
from instagram_service.web.admin.session import (
    clear_session,
    new_session,
    read_session,
    write_session,
)

router = APIRouter()


@router.get("/admin")
async def home() -> RedirectResponse:
    return RedirectResponse("/admin/moderation", status_code=303)


@router.get("/admin/login")
async def login_form(request: Request, settings: SettingsDep, next: str = "") -> Response:
    if settings.admin_session_secret is None:
        return page(request, "login.html", None, off=True, status_code=503)
    session = read_session(request, settings)
    if session is None or session.key_id is not None:
        session = new_session()  # a fresh token for the form; a logged-in user may switch keys
    response = page(request, "login.html", None, csrf=session.csrf, next=safe_next(next))
    write_session(response, request, settings, session)
    return response


@router.post("/admin/login")
async def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    api_key: str = Form("", max_length=200),
    csrf_token: str = Form("", max_length=100),
    next: str = Form("", max_length=500),
) -> Response:
    if settings.admin_session_secret is None:
        return page(request, "login.html", None, off=True, status_code=503)
    session = read_session(request, settings)
    csrf.check(request, session, csrf_token)
    key = await find_active_key(db, api_key.strip()) if api_key.strip() else None
    if key is None:
        fresh = new_session()
        response = page(
            request, "login.html", None, csrf=fresh.csrf, next=safe_next(next),
            error="That key is not valid (wrong, or revoked).", status_code=401,
        )  # fmt: skip
        write_session(response, request, settings, fresh)
        return response
    key.last_used_at = utcnow()
    # A new token at login: one seen before logging in is worth nothing afterwards.
    redirect = RedirectResponse(safe_next(next), status_code=303)
    write_session(redirect, request, settings, new_session(key.id))
    return redirect


@router.post("/admin/logout")
async def logout(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    csrf_token: str = Form("", max_length=100),
) -> Response:
    """Ends this key's console sessions (a copy of the cookie too), not only this cookie."""
    session = read_session(request, settings)
    if session is None:
        raise Forbidden("not logged in")
    csrf.check(request, session, csrf_token)
    key = await db.get(ApiKey, session.key_id) if session.key_id else None
    if key is not None:
        key.sessions_ended_at = utcnow()
    response = RedirectResponse("/admin/login", status_code=303)
    clear_session(response, request, settings)
    return response
