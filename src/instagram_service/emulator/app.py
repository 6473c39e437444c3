"""The emulator's ASGI app: Graph API, OAuth, CDN and the control API on one host."""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from instagram_service.emulator import oauth
from instagram_service.emulator.control import control_routes
from instagram_service.emulator.faults import check_token, check_usage, inject, usage_headers
from instagram_service.emulator.generate import load_scenario
from instagram_service.emulator.graph import route_graph
from instagram_service.emulator.images import FAKE_MP4, render_jpeg
from instagram_service.emulator.render import GraphError
from instagram_service.emulator.scenario import Scenario
from instagram_service.emulator.state import EmulatorState

VERSION_RE = re.compile(r"^v\d+\.\d+(/|$)")
CDN_RE = re.compile(r"^(?:[\w.\-]+/)*(\d+)_(n|cover|avatar)_n\.(jpg|mp4)$")


def create_emulator_app(source: EmulatorState | Scenario | str) -> Starlette:
    """An emulator for a state, a scenario, or a scenario spec (`demo`, a path, `generated:N`)."""
    if isinstance(source, str):
        source = load_scenario(source)
    state = source if isinstance(source, EmulatorState) else EmulatorState(source)

    async def graph(request: Request) -> Response:
        return await _graph(state, request)

    async def cdn(request: Request) -> Response:
        return await _cdn(state, request)

    async def authorize(request: Request) -> Response:
        return oauth.authorize(state, request)

    async def token(request: Request) -> Response:
        return await oauth.access_token(state, request)

    app = Starlette(
        routes=[
            Route("/oauth/authorize", authorize, methods=["GET"]),
            Route("/oauth/access_token", token, methods=["POST"]),
            Route("/cdn/{path:path}", cdn, methods=["GET", "HEAD"]),
            *control_routes(state),
            Route("/{path:path}", graph, methods=["GET", "POST", "DELETE"]),
        ]
    )
    app.state.emulator = state
    return app


def _token_of(request: Request) -> str | None:
    token = request.query_params.get("access_token")
    auth = request.headers.get("authorization", "")
    if not token and auth.lower().startswith(("bearer ", "oauth ")):
        token = auth.split(None, 1)[1].strip()
    return token


async def _graph(state: EmulatorState, request: Request) -> Response:
    path = VERSION_RE.sub("", request.path_params["path"].strip("/"))
    token = _token_of(request)
    headers: dict[str, str] = {}
    try:
        if request.method != "GET":
            raise GraphError(
                f"Unsupported {request.method.lower()} request. Object with ID '{path}' does "
                "not exist or does not support this operation.",
                100,
                type_="GraphMethodException",
            )
        with state.lock:
            known = state.tokens.get(token or "")
        label = re.sub(r"\d{6,}", "{id}", path) or "/"
        pct, calls = state.count_call(known.user_id if known else "", label)
        if known:
            headers = usage_headers(state, known.user_id, pct)
        record = check_token(state, token)
        await inject(state, record, calls)
        check_usage(state, pct)
        body = route_graph(state, record, path, request, _base(request))
        return JSONResponse(body, headers=headers)
    except GraphError as err:
        return JSONResponse(err.body(), status_code=err.status, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _cdn(state: EmulatorState, request: Request) -> Response:
    with state.lock:
        state.cdn_requests += 1
    path = request.url.path
    match = CDN_RE.match(request.path_params["path"])
    oe, oh = request.query_params.get("oe", ""), request.query_params.get("oh", "")
    try:
        expires = int(oe, 16)
    except ValueError:
        return PlainTextResponse("Bad URL hash", status_code=403)
    if not match or oh != state.sign(path, expires):
        return PlainTextResponse("Bad URL hash", status_code=403)
    if expires < state.now():
        return PlainTextResponse("URL signature expired", status_code=403)
    object_id, variant, ext = match.groups()
    size = state.image_size(object_id)
    if size is None:
        return PlainTextResponse("Not Found", status_code=404)
    if ext == "mp4":
        body, media_type = FAKE_MP4, "video/mp4"
    else:
        width, height = (320, 320) if variant == "avatar" else size
        body = await run_in_threadpool(render_jpeg, f"{object_id}:{variant}", width, height)
        media_type = "image/jpeg"
    if state.faults.truncate_images:
        body = body[: len(body) // 2]
    headers: dict[str, Any] = {"Cache-Control": "max-age=1209600, no-transform"}
    return Response(body, media_type=media_type, headers=headers)
