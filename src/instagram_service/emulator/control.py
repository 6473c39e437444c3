"""The control API under /_emulator: faults, media changes, tokens, clock, webhooks, stats."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from instagram_service.emulator import webhooks
from instagram_service.emulator.state import EmulatorState

Handler = Callable[[Request], Awaitable[Response]]


def control_routes(state: EmulatorState) -> list[Route]:
    async def stats(request: Request) -> Response:
        if request.method == "POST":
            state.reset_stats()
        return JSONResponse(state.stats())

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse(state.reset_faults().model_dump())
        if request.method == "POST":
            state.set_faults(**await _body(request))
        return JSONResponse(state.faults.model_dump())

    async def add_media(request: Request) -> Response:
        body = await _body(request)
        media = state.add_media(str(body.pop("user_id")), body)
        await _notify(state, media.id, "create")
        return JSONResponse(media.model_dump(mode="json"), status_code=201)

    async def one_media(request: Request) -> Response:
        media_id = request.path_params["media_id"]
        if state.media_owner(media_id) is None:
            return JSONResponse({"detail": f"no media {media_id}"}, status_code=404)
        if request.method == "DELETE":
            await _notify(state, media_id, "delete")
            state.delete_media(media_id)
            return Response(status_code=204)
        media = state.edit_media(media_id, **await _body(request))
        await _notify(state, media_id, "update")
        return JSONResponse(media.model_dump(mode="json"))

    async def tokens(request: Request) -> Response:
        body = await _body(request)
        token = state.issue_token(
            str(body["user_id"]),
            body.get("kind", "long"),
            age_s=float(body.get("age_s", 0)),
            expires_in_s=body.get("expires_in_s"),
        )
        return JSONResponse({"access_token": token}, status_code=201)

    async def revoke(request: Request) -> Response:
        body = await _body(request)
        state.revoke_token(str(body["token"]), body.get("status", "revoked"))
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        state.advance_clock(float((await _body(request)).get("advance_s", 0)))
        return JSONResponse({"now": state.now(), "offset_s": state.time_offset_s})

    async def webhook(request: Request) -> Response:
        body = await _body(request)
        url = body.get("callback_url") or state.scenario.webhook_url
        if not url:
            return JSONResponse({"detail": "no callback_url"}, status_code=400)
        value = body.get("value")
        if value is None and body.get("field", "comments") == "comments":
            value = webhooks.comment_value(str(body["media_id"]), body.get("text", "Nice!"))
        elif value is None:
            value = webhooks.media_value(str(body["media_id"]), body.get("verb", "update"))
        delivery = await state.send_webhook(
            url, str(body["user_id"]), body.get("field", "comments"), value
        )
        return JSONResponse(
            {
                "status_code": delivery.status_code,
                "error": delivery.error,
                "signature": delivery.signature,
            }
        )

    async def scenario(request: Request) -> Response:
        with state.lock:
            text = state.scenario.to_json()
        return Response(text, media_type="application/json")

    def guard(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, status_code=400)

        return run

    return [
        Route("/_emulator/stats", guard(stats), methods=["GET", "POST"]),
        Route("/_emulator/faults", guard(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/media", guard(add_media), methods=["POST"]),
        Route("/_emulator/media/{media_id}", guard(one_media), methods=["PATCH", "DELETE"]),
        Route("/_emulator/tokens", guard(tokens), methods=["POST"]),
        Route("/_emulator/tokens/revoke", guard(revoke), methods=["POST"]),
        Route("/_emulator/clock", guard(clock), methods=["POST"]),
        Route("/_emulator/webhook", guard(webhook), methods=["POST"]),
        Route("/_emulator/scenario", guard(scenario), methods=["GET"]),
    ]


async def _notify(state: EmulatorState, media_id: str, verb: str) -> None:
    found = state.media_owner(media_id)
    if state.scenario.webhook_url and found:
        value = webhooks.media_value(media_id, verb)
        await state.send_webhook(state.scenario.webhook_url, found[0], "media", value)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data
