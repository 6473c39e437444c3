"""Business Login for Instagram: the authorize redirect and the code exchange."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from instagram_service.emulator.state import CODE_TTL_S, EmulatorState

PERMISSIONS = "instagram_business_basic,instagram_business_manage_comments"


def authorize(state: EmulatorState, request: Request) -> Response:
    """Consent is granted at once (or refused with `deny=1`); `account` picks who logs in."""
    params = request.query_params
    redirect_uri = params.get("redirect_uri")
    if params.get("client_id") != state.scenario.app_id or not redirect_uri:
        return PlainTextResponse("Invalid request: unknown client_id or no redirect_uri", 400)
    extra: dict[str, str] = {"state": params["state"]} if "state" in params else {}
    if params.get("deny"):
        query: dict[str, str] = {
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request.",
            **extra,
        }
    else:
        wanted = params.get("account")
        account = next(
            (a for a in state.scenario.accounts if wanted in (None, a.username, a.user_id)),
            None,
        )
        if account is None:
            return PlainTextResponse(f"Unknown account {wanted!r}", 400)
        query = {"code": state.issue_code(account.user_id, redirect_uri), **extra}
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{sep}{urlencode(query)}#_", status_code=302)


def _oauth_error(message: str) -> JSONResponse:
    body = {"error_type": "OAuthException", "code": 400, "error_message": message}
    return JSONResponse(body, status_code=400)


async def access_token(state: EmulatorState, request: Request) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        k: form.get(k) for k in ("client_id", "client_secret", "grant_type", "redirect_uri", "code")
    }
    if values["client_id"] != state.scenario.app_id:
        return _oauth_error("Invalid platform app")
    secret = str(values["client_secret"] or "")
    if not hmac.compare_digest(secret, state.scenario.app_secret):
        return _oauth_error("Error validating client secret.")
    if values["grant_type"] != "authorization_code":
        return _oauth_error("Unsupported grant_type")
    code = str(values["code"] or "")
    with state.lock:
        grant = state.codes.get(code)
        if grant is None or state.now() - grant.created_at > CODE_TTL_S:
            return _oauth_error("Invalid authorization code")
        if grant.used:
            return _oauth_error("This authorization code has been used")
        if grant.redirect_uri != values["redirect_uri"]:
            return _oauth_error(
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request"
            )
        grant.used = True
    token = state.issue_token(grant.user_id, "short")
    # Instagram sends user_id as a JSON number here; clients must read it as a string.
    entry = {"access_token": token, "user_id": int(grant.user_id), "permissions": PERMISSIONS}
    return JSONResponse({"data": [entry]})
