"""Request bodies, bounded and checked before any route (or API key check) sees them.

A body is refused with 413 as soon as its `Content-Length` says it is too large, or, when
that header is missing or lies, as soon as the bytes read pass the cap; nothing more is read.
A JSON body is then parsed strictly once (orjson): NaN, Infinity, numbers out of a double's
range and lone surrogates are a 422 here, so no route or error handler ever holds them.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from instagram_service.kit.asgi import header
from instagram_service.validation import json_error_body

_JSON_TYPES = (b"application/json",)


def _is_json(content_type: bytes | None) -> bool:
    """As FastAPI decides: no content type, `application/json` or any `+json` type."""
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith(b"+json")


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _too_large(cap: int) -> bytes:
    return orjson.dumps({"detail": f"request body over {cap} bytes"})


class BodyLimitMiddleware:
    """Caps every request body at `max_bytes`; the paths in `own_caps` get their own cap and
    are passed on unparsed (the Instagram webhook checks a signature over the raw bytes)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_caps: dict[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_caps = own_caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is None and header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body (a GET): nothing to read or check
            return
        own_cap = self.own_caps.get(scope["path"])
        cap = self.max_bytes if own_cap is None else own_cap
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _answer(send, 413, _too_large(cap))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await _answer(send, 413, _too_large(cap))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and own_cap is None and _is_json(header(scope, b"content-type")):
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                await _answer(send, 422, json_error_body(exc.msg, exc.pos))
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed
