"""HTTP side of the cached public JSON: ETag and 304, the compressed bytes kept beside the
plain ones, absolute URLs, and the middleware that answers a fresh hit before routing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from instagram_service.db import Database
from instagram_service.kit.asgi import header
from instagram_service.posts.cache import ENCODINGS, CachedBody, gallery_cache
from instagram_service.settings import Settings

_JSON = "application/json"


def not_modified(if_none_match: bytes, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list of tags compared weakly (`W/"x"` matches `"x"`)."""
    sent = if_none_match.decode("latin-1")
    if sent == etag:  # what a browser sends back: one tag, as given
        return True
    tags = [tag.strip() for tag in sent.split(",")]
    return tags == ["*"] or any(tag.removeprefix("W/") == etag for tag in tags)


def accepted_encoding(accept_encoding: bytes | None) -> str | None:
    """The best of our encodings the client accepts (a `q=0` refuses one)."""
    if not accept_encoding:
        return None
    accepted = set()
    for part in accept_encoding.decode("latin-1").lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=")
        if params and q.replace(".", "", 1).isdigit() and float(q) == 0:
            continue
        accepted.add(name.strip())
    return next((e for e in ENCODINGS if e in accepted), None)


def public_base(request: Request, settings: Settings) -> str:
    """The absolute origin for URLs in public JSON: IGS_PUBLIC_BASE_URL, else the request's."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def raw_key(scope: Scope) -> tuple[str, bytes]:
    """The fast path's key: the host too, since URLs in the body are absolute."""
    host = header(scope, b"host") or b""
    return (scope["path"], host + b"?" + scope["query_string"])


class CachedReply(Response):
    """A cached body's answer, its raw headers made here: it is built on every gallery hit."""

    def __init__(self, scope: Scope, cached: CachedBody, max_age: int, media_type: str) -> None:
        self.background = None
        control = f"public, max-age={max_age}, stale-while-revalidate={max_age * 10}"
        headers = [
            (b"etag", cached.etag.encode("latin-1")),
            (b"cache-control", control.encode("latin-1")),
            (b"vary", b"Accept-Encoding"),
        ]
        if_none_match = header(scope, b"if-none-match")
        if if_none_match is not None and not_modified(if_none_match, cached.etag):
            self.status_code, self.body, self.raw_headers = 304, b"", headers
            return
        encoding = accepted_encoding(header(scope, b"accept-encoding"))
        body = cached.body
        if encoding is not None and len(body) >= 512:
            headers.append((b"content-encoding", encoding.encode("latin-1")))
            body = cached.encoded_as(encoding)
        headers += [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", media_type.encode("latin-1")),
        ]
        self.status_code, self.body, self.raw_headers = 200, body, headers


def cached_response(
    request: Request, cached: CachedBody, max_age: int, media_type: str = _JSON
) -> Response:
    return CachedReply(request.scope, cached, max_age, media_type)


async def from_cache(
    request: Request,
    db: Database,
    settings: Settings,
    key: str,
    build: Callable[[], Awaitable[bytes]],
    media_type: str = _JSON,
    *,
    fast: bool = False,
) -> Response:
    """The cached bytes under `key` (built on a miss), with their ETag; 304 when matched.
    `fast`: a later hit of this same request is answered by `FreshHitMiddleware` (only for
    JSON whose response adds no header of its own)."""
    scope = request.scope
    fast_key = raw_key(scope) if fast else None
    hit = await gallery_cache.get(db, key, build, fast_key, route=scope.get("route"))
    return cached_response(request, hit, settings.gallery_cache_seconds, media_type)


class FreshHitMiddleware:
    """Answers a GET that matches a fresh cache entry (the same path, host and query string
    as a request the route validated and answered) before routing, parameter validation and
    dependencies: the gallery and feeds are most of the traffic, and each layer it skips
    cost requests/s. Placed inside the request-id and public CORS middleware, whose headers
    and metrics it keeps."""

    def __init__(self, app: ASGIApp, max_age: int) -> None:
        self.app = app
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            hit = gallery_cache.fresh(raw_key(scope))
            if hit is not None:
                cached, scope["route"] = hit  # the route: the request metrics' label
                reply = CachedReply(scope, cached, self.max_age, _JSON)
                await reply(scope, receive, send)
                return
        await self.app(scope, receive, send)
