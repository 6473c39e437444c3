"""A live API server (the synced data of tests/api) and a host page on ANOTHER origin.

The API listens on 127.0.0.1, the host pages on localhost with another port: to the browser,
two origins, so every widget request is a real cross-origin one.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.api.conftest import app, app_settings, data, emulator, keys, media_tmp
from tests.web.browser import serve

__all__ = ["app", "app_settings", "data", "emulator", "keys", "media_tmp"]

HOSTILE_CSS = "img { display: none } * { font-size: 40px }"


@dataclass
class Seen:
    """What the API answered: (method, path, status, if-none-match sent)."""

    requests: list[tuple[str, str, int, bool]] = field(default_factory=list)


def recording(app: FastAPI, seen: Seen) -> Callable[..., Awaitable[None]]:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        sent = any(k == b"if-none-match" for k, _ in scope["headers"])

        async def send_and_note(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.requests.append((scope["method"], scope["path"], message["status"], sent))
            await send(message)

        await app(scope, receive, send_and_note)

    return wrapped


@dataclass
class Servers:
    api: str
    host: str
    seen: Seen
    http: httpx.AsyncClient  # to the API over loopback


def host_page(api: str, query: dict[str, str]) -> str:
    attrs = {k: v for k, v in query.items() if k not in {"hostile", "api_attr", "title"}}
    if query.get("api_attr"):
        attrs["api"] = api
    rendered = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
    hostile = f"<style>{HOSTILE_CSS}</style>" if query.get("hostile") else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(query.get("title", "A site on another origin"))}</title>{hostile}
<script type="module" src="{api}/widget.js"></script></head>
<body><main><h1>Our salon</h1><instagram-gallery {rendered}></instagram-gallery></main>
</body></html>"""


def host_app(api: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(host_page(api, dict(request.query_params)))

    async def favicon(_: Request) -> Response:
        return Response(status_code=204)

    return Starlette(routes=[Route("/", page), Route("/favicon.ico", favicon)])


@pytest.fixture(scope="package")
async def servers(app: FastAPI) -> AsyncIterator[Servers]:
    seen = Seen()
    async with serve(recording(app, seen)) as api:
        async with serve(host_app(api)) as host:
            host = host.replace("127.0.0.1", "localhost")
            async with httpx.AsyncClient(base_url=api) as http:
                yield Servers(api=api, host=host, seen=seen, http=http)
