"""A fresh cache hit is answered before routing (posts/http.FreshHitMiddleware): it must be
the very answer the route gives (status, body, every header but the request id), counted
under the route's label, and for the same request only (path, host and query string)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from instagram_service.db import Database
from instagram_service.posts.cache import gallery_cache
from instagram_service.posts.http import FreshHitMiddleware, raw_key
from tests.api.conftest import Data, Keys

PATHS = [
    "/api/v1/gallery",
    "/api/v1/gallery?limit=5&offset=2",
    "/api/v1/gallery/featured",
    "/api/v1/gallery/categories",
]
HEADERS = [
    {},
    {"Accept-Encoding": "br, gzip"},
    {"Accept-Encoding": "gzip;q=1, br;q=0"},
    {"Accept-Encoding": "zstd"},
    {"Origin": "https://shop.example"},
    {"Origin": "https://shop.example", "Accept-Encoding": "gzip"},
]


def _comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k != "x-request-id")
    return response.status_code, response.content, headers


async def _route_then_hit(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    gallery_cache.invalidate()
    routed = await client.get(path, headers=headers)  # validated, built, stored
    assert routed.status_code == 200, routed.text
    url = httpx.URL(path)
    assert gallery_cache.fresh((url.path, b"testserver?" + url.query)) is not None
    hit = await client.get(path, headers=headers)
    return routed, hit


@pytest.fixture
def feed_paths(data: Data) -> list[str]:
    return [f"/api/v1/feeds/{name}" for name in data.accounts] + [
        f"/api/v1/feeds/{next(iter(data.accounts))}?limit=2"
    ]


@pytest.mark.parametrize("headers", HEADERS, ids=lambda h: ",".join(h.values()) or "plain")
async def test_a_hit_answers_as_the_route_does(
    client: httpx.AsyncClient, feed_paths: list[str], headers: dict[str, str]
) -> None:
    for path in PATHS + feed_paths:
        routed, hit = await _route_then_hit(client, path, headers)
        assert _comparable(hit) == _comparable(routed), path
        assert hit.headers["x-request-id"] != routed.headers["x-request-id"]
        tagged = await client.get(path, headers=headers | {"If-None-Match": hit.headers["etag"]})
        assert tagged.status_code == 304
        assert tagged.content == b""
        assert tagged.headers["etag"] == hit.headers["etag"]


async def test_a_feeds_origins_are_kept_on_a_hit(
    client: httpx.AsyncClient, keys: Keys, data: Data
) -> None:
    """The public CORS middleware is outside the hits: a feed that lists its origins
    refuses others on a hit as on the route."""
    name = next(iter(data.accounts))
    feeds = (await client.get("/api/v1/feeds", headers=keys.admin)).json()["items"]
    feed = next(f for f in feeds if f["slug"] == name)
    patch = await client.patch(
        f"/api/v1/feeds/{feed['id']}",
        json={"allowed_origins": ["https://salon.example"]},
        headers=keys.admin,
    )
    assert patch.status_code == 200, patch.text
    try:
        for origin, allowed in (("https://salon.example", True), ("https://evil.example", False)):
            routed, hit = await _route_then_hit(client, f"/api/v1/feeds/{name}", {"Origin": origin})
            assert _comparable(hit) == _comparable(routed)
            assert hit.headers.get("access-control-allow-origin") == (origin if allowed else None)
    finally:
        restore = await client.patch(
            f"/api/v1/feeds/{feed['id']}", json={"allowed_origins": []}, headers=keys.admin
        )
        assert restore.status_code == 200, restore.text


def _count(route: str) -> float:
    labels = {"method": "GET", "route": route, "status": "200"}
    return REGISTRY.get_sample_value("igs_http_requests_total", labels) or 0.0


async def test_a_hit_is_counted_under_its_route(client: httpx.AsyncClient, data: Data) -> None:
    name = next(iter(data.accounts))
    for path, route in (
        ("/api/v1/gallery", "/api/v1/gallery"),
        (f"/api/v1/feeds/{name}", "/api/v1/feeds/{ref}"),
    ):
        await _route_then_hit(client, path, {})
        before = _count(route)
        for _ in range(3):
            assert (await client.get(path)).status_code == 200
        assert _count(route) == before + 3


async def test_only_the_same_request_is_a_hit(client: httpx.AsyncClient) -> None:
    """Another query string, host or method goes to the route, which validates it."""
    await _route_then_hit(client, "/api/v1/gallery?limit=5", {})
    assert (await client.get("/api/v1/gallery?limit=500")).status_code == 422
    assert (await client.get("/api/v1/gallery?limit=5&x=1")).status_code == 200
    other_host = await client.get("/api/v1/gallery?limit=5", headers={"Host": "other.example"})
    assert other_host.status_code == 200
    assert "http://other.example/" in other_host.text  # absolute URLs of that host
    assert "http://testserver/" not in other_host.text
    assert (await client.post("/api/v1/gallery?limit=5")).status_code == 405


async def test_the_middleware_answers_without_the_app_inside(db: Database, data: Data) -> None:
    """A fresh entry is sent without calling what the middleware wraps; no entry, or an
    entry past the check interval, is passed on to it."""
    passed: list[str] = []

    async def inside(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = FreshHitMiddleware(inside, max_age=30)
    route = object()
    scope_of = {
        "type": "http", "method": "GET", "path": "/api/v1/gallery", "query_string": b"limit=3",
        "headers": [(b"host", b"fresh.example"), (b"accept-encoding", b"gzip")],
    }  # fmt: skip
    gallery_cache.invalidate()

    async def build() -> bytes:
        return b'{"items": []}' * 100

    await gallery_cache.get(db, "fresh-test", build, raw_key(scope_of), route=route)

    async def call(scope: Scope) -> list[dict[str, object]]:
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app(scope, receive, send)  # type: ignore[arg-type]
        return sent

    scope = dict(scope_of)
    sent = await call(scope)
    assert passed == []
    assert sent[0]["status"] == 200
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]  # type: ignore[operator]
    assert scope["route"] is route
    await call(dict(scope_of, query_string=b"limit=4"))
    await call(dict(scope_of, method="HEAD"))
    gallery_cache._checked_at -= gallery_cache.check_interval_s  # the check is due
    await call(dict(scope_of))
    assert passed == ["/api/v1/gallery"] * 3


@pytest.fixture(autouse=True)
async def _cache_left_clean(app: FastAPI) -> AsyncIterator[None]:
    yield
    gallery_cache.invalidate()
