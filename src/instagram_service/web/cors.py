"""CORS for the public read-only routes: any origin (no credentials), unless a feed lists the
origins allowed to embed it. Admin routes (a request with credentials) are left to the
configured `IGS_CORS_ORIGINS` (starlette's CORSMiddleware, inside this one)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from instagram_service.feeds.public import allowed_origins
from instagram_service.kit.asgi import header

PUBLIC_PREFIXES = (
    "/api/v1/gallery", "/api/v1/feeds/", "/api/v1/posts/", "/images/", "/avatars/", "/widget",
)  # fmt: skip
FEED_PREFIX = "/api/v1/feeds/"
_EXPOSED = "ETag, X-Request-ID"


def _allow(scope: Scope, origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for this public request, or None to refuse."""
    path: str = scope["path"]
    if path.startswith(FEED_PREFIX):
        origins = allowed_origins(path[len(FEED_PREFIX) :].split("/", 1)[0])
        if origins:
            return origin if origin.lower() in origins else None
    return "*"


class PublicCORSMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        origin_bytes = header(scope, b"origin")
        method = scope["method"]
        if origin_bytes is None or header(scope, b"authorization") is not None:
            await self.app(scope, receive, send)
            return
        origin = origin_bytes.decode("latin-1")
        if method == "OPTIONS":
            requested = (header(scope, b"access-control-request-headers") or b"").lower()
            if b"authorization" in requested:  # an admin call: the configured origins decide
                await self.app(scope, receive, send)
                return
            await self._preflight(scope, receive, send, origin)
            return
        if method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                allow = _allow(scope, origin)
                if allow is None:
                    del headers["Access-Control-Allow-Origin"]
                else:  # over what the admin routes' CORSMiddleware may have set
                    headers["Access-Control-Allow-Origin"] = allow
                    headers["Access-Control-Expose-Headers"] = _EXPOSED
                if allow != "*":
                    headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, origin: str) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        # The feed's origins are known once its response was built in this process.
        allow = _allow(scope, origin)
        if allow is not None:
            headers += [
                (b"access-control-allow-origin", allow.encode("latin-1")),
                (b"access-control-allow-methods", b"GET, HEAD"),
                (b"access-control-allow-headers", b"If-None-Match, Accept"),
                (b"access-control-max-age", b"86400"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
