"""Every admin list is a page (`items`, `total`, `limit`, `offset`, `next_offset`), and the
gallery's categories are cached like the gallery: ETag, Cache-Control, 304 on If-None-Match
(one tag, a list, weak tags, `*`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from instagram_service.db import Database
from instagram_service.models import InstagramPost
from instagram_service.posts.cache import gallery_cache
from instagram_service.settings import Settings
from tests.api.conftest import Data, Keys

LISTS = [
    "/api/v1/accounts",
    "/api/v1/keys",
    "/api/v1/filters",
    "/api/v1/webhook-subscriptions",
]
PAGE_FIELDS = {"items", "total", "limit", "offset", "next_offset"}


async def get_page(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == PAGE_FIELDS
    return page


async def walk(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int
) -> list[dict[str, Any]]:
    """Every item, following `next_offset`, checking each page on the way."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = await get_page(client, path, headers, limit=limit, offset=offset)
        assert (page["limit"], page["offset"]) == (limit, offset)
        assert len(page["items"]) == min(limit, page["total"] - offset)
        assert page["next_offset"] == (offset + limit if offset + limit < page["total"] else None)
        items += page["items"]
        offset = page["next_offset"]
    return items


@pytest.fixture
async def filters(client: httpx.AsyncClient, keys: Keys) -> AsyncIterator[list[int]]:
    """Three inactive filters (so no moderation changes), created out of priority order."""
    ids = []
    for priority in (30, 10, 20):
        body = {"name": f"page test {priority}", "priority": priority, "is_active": False}
        created = await client.post("/api/v1/filters", json=body, headers=keys.admin)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    yield ids
    for filter_id in ids:
        await client.delete(f"/api/v1/filters/{filter_id}", headers=keys.admin)


@pytest.fixture
async def subscriptions(client: httpx.AsyncClient, keys: Keys) -> AsyncIterator[list[int]]:
    ids = []
    for n in range(3):
        body = {"url": f"https://93.184.215.14/hook/{n}", "events": ["gallery.changed"]}
        created = await client.post("/api/v1/webhook-subscriptions", json=body, headers=keys.admin)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    yield ids
    for subscription_id in ids:
        await client.delete(f"/api/v1/webhook-subscriptions/{subscription_id}", headers=keys.admin)


@pytest.mark.parametrize("path", LISTS)
async def test_lists_are_pages_with_defaults(
    client: httpx.AsyncClient, keys: Keys, path: str
) -> None:
    page = await get_page(client, path, keys.admin)
    assert (page["limit"], page["offset"]) == (50, 0)
    assert page["total"] == len(page["items"])  # fewer than 50 here: all on the first page
    assert page["next_offset"] is None


async def test_accounts_page_by_page(client: httpx.AsyncClient, keys: Keys, data: Data) -> None:
    first = await get_page(client, "/api/v1/accounts", keys.read, limit=1)
    assert (first["total"], first["next_offset"]) == (len(data.accounts), 1)
    assert len(first["items"]) == 1
    items = await walk(client, "/api/v1/accounts", keys.read, limit=1)
    assert [a["id"] for a in items] == sorted(data.accounts.values())
    assert {a["username"] for a in items} == set(data.accounts)
    assert all("access_token" not in a for a in items)


async def test_keys_page_by_page(client: httpx.AsyncClient, keys: Keys) -> None:
    everything = (await get_page(client, "/api/v1/keys", keys.admin, limit=100))["items"]
    assert len(everything) >= 2  # the package's admin and read keys at least
    assert [k["id"] for k in everything] == sorted(k["id"] for k in everything)
    assert await walk(client, "/api/v1/keys", keys.admin, limit=1) == everything
    assert all("key" not in k and "key_hash" not in k for k in everything)


async def test_filters_page_by_page_in_run_order(
    client: httpx.AsyncClient, keys: Keys, filters: list[int]
) -> None:
    items = await walk(client, "/api/v1/filters", keys.read, limit=2)
    mine = [f for f in items if f["id"] in filters]
    assert [f["priority"] for f in mine] == [10, 20, 30]
    order = [(f["priority"], f["id"]) for f in items]
    assert order == sorted(order)
    page = await get_page(client, "/api/v1/filters", keys.read, limit=2)
    assert page["total"] == len(items) >= 3
    assert page["next_offset"] == 2


async def test_subscriptions_page_by_page(
    client: httpx.AsyncClient, keys: Keys, subscriptions: list[int]
) -> None:
    path = "/api/v1/webhook-subscriptions"
    items = await walk(client, path, keys.admin, limit=2)
    assert [s["id"] for s in items if s["id"] in subscriptions] == subscriptions
    assert all("secret" not in s for s in items)
    last = await get_page(client, path, keys.admin, limit=2, offset=len(items) - 1)
    assert (len(last["items"]), last["next_offset"]) == (1, None)


@pytest.mark.parametrize("path", LISTS)
async def test_offset_past_the_end_is_an_empty_page(
    client: httpx.AsyncClient, keys: Keys, path: str
) -> None:
    total = (await get_page(client, path, keys.admin))["total"]
    page = await get_page(client, path, keys.admin, limit=5, offset=1000)
    assert page == {"items": [], "total": total, "limit": 5, "offset": 1000, "next_offset": None}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"offset": -1},
        {"offset": "first"},
        {"offset": 2**31},  # more than the database holds: refused, not a 500
    ],
)
async def test_invalid_page_parameters_are_422(
    client: httpx.AsyncClient, keys: Keys, path: str, params: dict[str, Any]
) -> None:
    response = await client.get(path, params=params, headers=keys.admin)
    assert response.status_code == 422, response.text
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["query", next(iter(params))]


@pytest.mark.parametrize("path", LISTS)
async def test_limit_100_is_allowed(client: httpx.AsyncClient, keys: Keys, path: str) -> None:
    assert (await get_page(client, path, keys.admin, limit=100))["limit"] == 100


async def test_lists_keep_their_auth(client: httpx.AsyncClient, keys: Keys) -> None:
    for path in LISTS:
        assert (await client.get(path)).status_code == 401
    for path in ("/api/v1/keys", "/api/v1/webhook-subscriptions"):  # admin reads
        assert (await client.get(path, headers=keys.read)).status_code == 403
    for path in ("/api/v1/accounts", "/api/v1/filters"):
        assert (await client.get(path, headers=keys.read)).status_code == 200


# --- ETags -----------------------------------------------------------------------------

CATEGORIES = "/api/v1/gallery/categories"
CACHED = ["/api/v1/gallery", "/api/v1/gallery/featured", CATEGORIES]


async def test_categories_have_etag_cache_control_and_304(
    client: httpx.AsyncClient, app_settings: Settings, data: Data
) -> None:
    first = await client.get(CATEGORIES)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    max_age = app_settings.gallery_cache_seconds
    assert first.headers["cache-control"] == (
        f"public, max-age={max_age}, stale-while-revalidate={max_age * 10}"
    )
    assert [set(item) for item in first.json()["items"]] == [{"category", "count"}] * len(
        first.json()["items"]
    )
    again = await client.get(CATEGORIES)
    assert (again.headers["etag"], again.content) == (etag, first.content)
    not_modified = await client.get(CATEGORIES, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert not_modified.headers["cache-control"] == first.headers["cache-control"]


def _matching(etag: str) -> list[str]:
    return [
        etag,
        f"W/{etag}",
        "*",
        f'"other", {etag}',
        f'"other",{etag}',
        f'W/"other", W/{etag}',
        f"  {etag}  ",
    ]


NOT_MATCHING = ['"other"', 'W/"other"', '"other", W/"another"', "", '"*"']


@pytest.mark.parametrize("path", CACHED)
@pytest.mark.parametrize("cold", [True, False], ids=["validated-path", "fast-path"])
async def test_if_none_match_forms(client: httpx.AsyncClient, path: str, cold: bool) -> None:
    """Same answers whether the request is served by the cache-hit fast path or the route."""
    first = await client.get(path)
    etag = first.headers["etag"]
    for sent in _matching(etag):
        if cold:
            gallery_cache.invalidate()
        response = await client.get(path, headers={"If-None-Match": sent})
        assert response.status_code == 304, sent
        assert response.headers["etag"] == etag
    for sent in NOT_MATCHING:
        if cold:
            gallery_cache.invalidate()
        response = await client.get(path, headers={"If-None-Match": sent})
        assert response.status_code == 200, sent
        assert response.content == first.content


async def set_category(db: Database, post_id: int, category: str) -> None:
    async with db.session() as session:  # an ORM change: the cache drops at commit
        post = await session.get(InstagramPost, post_id)
        assert post is not None
        post.gallery_category = category


async def test_categories_etag_changes_when_a_visible_post_changes(
    client: httpx.AsyncClient, db: Database, data: Data
) -> None:
    post_id = data.ordered
    original = data.posts[post_id].gallery_category
    other = "tutorial" if original != "tutorial" else "product"
    before = await client.get(CATEGORIES)
    counts = {i["category"]: i["count"] for i in before.json()["items"]}
    try:
        await set_category(db, post_id, other)
        after = await client.get(CATEGORIES, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        changed = {i["category"]: i["count"] for i in after.json()["items"]}
        assert changed[other] == counts.get(other, 0) + 1
        assert changed.get(original, 0) == counts[original] - 1
    finally:
        await set_category(db, post_id, original)
    back = await client.get(CATEGORIES)
    assert (back.headers["etag"], back.content) == (before.headers["etag"], before.content)


async def test_hidden_posts_change_no_category_etag(
    client: httpx.AsyncClient, db: Database, data: Data
) -> None:
    """A post the gallery does not show is not counted: its change leaves the body alone."""
    before = await client.get(CATEGORIES)
    original = data.posts[data.pending].gallery_category
    try:
        await set_category(db, data.pending, "before_after")
        after = await client.get(CATEGORIES)
        assert after.content == before.content
        assert after.headers["etag"] == before.headers["etag"]  # the ETag hashes the body
    finally:
        await set_category(db, data.pending, original)
