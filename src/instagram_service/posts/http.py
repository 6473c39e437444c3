"""HTTP side of the cached public JSON: ETag and 304, the compressed bytes kept beside the
plain ones, absolute URLs, and the fast path that answers a fresh hit before validation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from instagram_service.db import Database
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


def _header(request: Request, name: bytes) -> bytes | None:
    return next((v for k, v in request.scope["headers"] if k == name), None)


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


def raw_key(request: Request) -> tuple[str, bytes]:
    """The fast path's key: the host too, since URLs in the body are absolute."""
    host = _header(request, b"host") or b""
    return (request.scope["path"], host + b"?" + request.scope["query_string"])


def cached_response(
    request: Request, cached: CachedBody, max_age: int, media_type: str = _JSON
) -> Response:
    headers = {
        "ETag": cached.etag,
        "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate={max_age * 10}",
        "Vary": "Accept-Encoding",
    }
    sent = _header(request, b"if-none-match")
    if sent is not None and not_modified(sent, cached.etag):
        return Response(status_code=304, headers=headers)
    encoding = accepted_encoding(_header(request, b"accept-encoding"))
    if encoding is None or len(cached.body) < 512:
        return Response(content=cached.body, media_type=media_type, headers=headers)
    headers["Content-Encoding"] = encoding
    return Response(content=cached.encoded_as(encoding), media_type=media_type, headers=headers)


async def from_cache(
    request: Request,
    db: Database,
    settings: Settings,
    key: str,
    build: Callable[[], Awaitable[bytes]],
    media_type: str = _JSON,
) -> Response:
    """The cached bytes under `key` (built on a miss), with their ETag; 304 when matched."""
    hit = await gallery_cache.get(db, key, build, raw_key(request))
    return cached_response(request, hit, settings.gallery_cache_seconds, media_type)


class CachedGalleryRoute(APIRoute):
    """Answers fresh cache hits before FastAPI validates parameters and solves dependencies
    (measured: about 4x the requests/s); anything else takes the route's usual way."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def serve(request: Request) -> Response:
            cached = gallery_cache.fresh(raw_key(request))
            if cached is None:
                return await handler(request)
            max_age: int = request.app.state.settings.gallery_cache_seconds
            return cached_response(request, cached, max_age)

        return serve
