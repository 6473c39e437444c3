"""Feeds: admin CRUD, the public feed (order, filters, pages that never repeat a post),
HTTP caching and compression, CORS by feed, absolute URLs."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import brotli
import httpx
import pytest
import zstandard
from sqlalchemy import delete

from instagram_service.db import Database
from instagram_service.models import InstagramPost
from tests.api.conftest import Data, Keys, public_ids
from tests.api.test_gallery import gallery_order

FEEDS = "/api/v1/feeds"


def expected_ids(data: Data, accounts: list[int], *, newest: bool = False) -> list[int]:
    posts = [data.posts[i] for i in public_ids(data) if data.posts[i].account_id in accounts]
    if newest:
        return [p.id for p in sorted(posts, key=lambda p: (p.posted_at, p.id), reverse=True)]
    return gallery_order(posts)


async def walk(client: httpx.AsyncClient, slug: str, **params: Any) -> list[int]:
    """Every post id of a feed, following `next` from page to page."""
    response = await client.get(f"{FEEDS}/{slug}", params=params)
    assert response.status_code == 200, response.text
    page = response.json()["posts"]
    ids = [item["id"] for item in page["items"]]
    while page["next"]:
        assert page["next"].startswith("http://testserver/api/v1/feeds/")
        page = (await client.get(page["next"])).json()["posts"]
        ids += [item["id"] for item in page["items"]]
    return ids


@pytest.fixture
async def feed(client: httpx.AsyncClient, keys: Keys, data: Data) -> AsyncIterator[dict[str, Any]]:
    body = {"slug": "both", "title": "Both", "account_ids": sorted(data.accounts.values())}
    response = await client.post(FEEDS, json=body, headers=keys.admin)
    assert response.status_code == 201, response.text
    yield response.json()
    await client.delete(f"{FEEDS}/{response.json()['id']}", headers=keys.admin)


async def test_every_account_has_its_default_feed(
    client: httpx.AsyncClient, keys: Keys, data: Data
) -> None:
    listed = (await client.get(FEEDS, headers=keys.read)).json()
    defaults = {f["slug"]: f for f in listed["items"] if f["default_for_account_id"]}
    assert set(defaults) == set(data.accounts)
    for username, account_id in data.accounts.items():
        assert defaults[username]["account_ids"] == [account_id]
        public = (await client.get(f"{FEEDS}/{username}")).json()
        assert [p["username"] for p in public["profiles"]] == [username]
        assert public["profiles"][0]["profile_url"] == f"https://www.instagram.com/{username}/"
        assert await walk(client, username) == expected_ids(data, [account_id])


async def test_merged_feed_shows_exactly_the_public_posts_in_order(
    client: httpx.AsyncClient, data: Data, feed: dict[str, Any]
) -> None:
    ids = await walk(client, "both", limit=5)
    assert ids == expected_ids(data, feed["account_ids"])
    assert not set(ids) & data.hidden
    first = (await client.get(f"{FEEDS}/both")).json()
    assert first["display"]["layout"] == "grid"
    assert len(first["profiles"]) == 2
    assert first["posts"]["limit"] == first["display"]["page_size"]


async def test_feed_filters_and_ordering(
    client: httpx.AsyncClient, keys: Keys, data: Data, feed: dict[str, Any]
) -> None:
    url = f"{FEEDS}/{feed['id']}"
    changed = await client.patch(
        url, json={"ordering": "newest", "max_posts": 5}, headers=keys.admin
    )
    assert changed.status_code == 200, changed.text
    assert (
        await walk(client, "both", limit=2)
        == expected_ids(data, feed["account_ids"], newest=True)[:5]
    )
    await client.patch(url, json={"featured_only": True, "max_posts": None}, headers=keys.admin)
    featured = await walk(client, "both")
    assert set(featured) == set(data.featured)
    await client.patch(
        url, json={"featured_only": False, "categories": ["nothing-here"]}, headers=keys.admin
    )
    assert await walk(client, "both") == []
    await client.patch(url, json={"categories": []}, headers=keys.admin)
    category = data.posts[data.ordered].gallery_category
    narrowed = await walk(client, "both", category=category)
    assert narrowed
    assert all(data.posts[i].gallery_category == category for i in narrowed)


async def test_pages_never_repeat_a_post_when_one_arrives_between_them(
    client: httpx.AsyncClient, db: Database, data: Data, feed: dict[str, Any]
) -> None:
    first = (await client.get(f"{FEEDS}/both", params={"limit": 3})).json()["posts"]
    newest = data.posts[data.ordered]
    async with db.session() as session:
        # A new post, featured and ordered first: it would push every offset by one.
        session.add(
            InstagramPost(
                instagram_id="17999999999999999", account_id=newest.account_id,
                media_type="IMAGE", posted_at=datetime.now(UTC), is_approved=True,
                is_featured=True, display_order=-100, variants=newest.variants,
                content_hash=newest.content_hash, local_image_path=newest.local_image_path,
                image_width=newest.image_width, image_height=newest.image_height,
                media_status=newest.media_status,
            )
        )  # fmt: skip
    try:
        ids = [item["id"] for item in first["items"]]
        page = first
        while page["next"]:
            page = (await client.get(page["next"])).json()["posts"]
            ids += [item["id"] for item in page["items"]]
        assert len(ids) == len(set(ids))
        assert ids == expected_ids(data, feed["account_ids"])
        reloaded = await walk(client, "both")
        assert len(reloaded) == len(ids) + 1  # the new one shows after a reload
    finally:
        async with db.session() as session:
            await session.execute(
                delete(InstagramPost).where(InstagramPost.instagram_id == "17999999999999999")
            )


async def test_feed_etag_304_and_compressed_bytes(
    client: httpx.AsyncClient, feed: dict[str, Any]
) -> None:
    plain = await client.get(f"{FEEDS}/both", headers={"Accept-Encoding": "identity"})
    etag = plain.headers["etag"]
    assert "Accept-Encoding" in plain.headers["vary"]
    again = await client.get(f"{FEEDS}/both", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    decoders = {
        "br": brotli.decompress,
        "zstd": zstandard.ZstdDecompressor().decompressobj().decompress,
        "gzip": gzip.decompress,
    }
    for encoding, decode in decoders.items():
        # httpx would decode for us: read the raw stream to see the bytes sent.
        async with client.stream(
            "GET", f"{FEEDS}/both", headers={"Accept-Encoding": encoding}
        ) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers["content-encoding"] == encoding
        assert response.headers["etag"] == etag
        assert len(raw) < len(plain.content) / 3
        assert decode(raw) == plain.content
    refused = await client.get(f"{FEEDS}/both", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


async def test_feed_cors_any_origin_unless_the_feed_lists_origins(
    client: httpx.AsyncClient, keys: Keys, feed: dict[str, Any]
) -> None:
    url = f"{FEEDS}/both"
    anyone = await client.get(url, headers={"Origin": "https://any.example"})
    assert anyone.headers["access-control-allow-origin"] == "*"
    await client.patch(
        f"{FEEDS}/{feed['id']}",
        json={"allowed_origins": ["https://Shop.example/"]},
        headers=keys.admin,
    )
    allowed = await client.get(url, headers={"Origin": "https://shop.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "Origin" in allowed.headers["vary"]
    refused = await client.get(url, headers={"Origin": "https://any.example"})
    assert refused.status_code == 200  # the browser, not us, keeps the body from the page
    assert "access-control-allow-origin" not in refused.headers
    embed = await client.get("/embed/both")
    assert embed.headers["content-security-policy"] == "frame-ancestors https://shop.example"


async def test_public_urls_are_absolute(
    client: httpx.AsyncClient, app_settings: Any, feed: dict[str, Any]
) -> None:
    other = await client.get(f"{FEEDS}/both", headers={"Host": "cdn.example:8080"})
    item = other.json()["posts"]["items"][0]
    assert item["image_url"].startswith("http://cdn.example:8080/images/")
    assert item["image"]["srcset"].startswith("http://cdn.example:8080/images/")
    here = (await client.get(f"{FEEDS}/both")).json()["posts"]["items"][0]
    assert here["thumbnail_url"].startswith("http://testserver/images/")


async def test_admin_feed_routes_and_bad_input(
    client: httpx.AsyncClient, keys: Keys, data: Data, feed: dict[str, Any]
) -> None:
    by_id = await client.get(f"{FEEDS}/{feed['id']}", headers=keys.read)
    assert by_id.json()["slug"] == "both"
    assert (await client.get(f"{FEEDS}/{feed['id']}")).status_code == 404  # no key: a slug
    body = {"slug": "x1", "title": "X", "account_ids": [next(iter(data.accounts.values()))]}
    cases = [
        ({**body, "slug": "both"}, 409),
        ({**body, "account_ids": [999_999]}, 400),
        ({**body, "slug": "12345"}, 422),
        ({**body, "slug": "Bad Slug"}, 422),
        ({**body, "allowed_origins": ["not an origin"]}, 422),
        ({**body, "display": {"layout": "spiral"}}, 422),
        ({**body, "unknown": 1}, 422),
        ({**body, "account_ids": []}, 422),
    ]
    for payload, status in cases:
        response = await client.post(FEEDS, json=payload, headers=keys.admin)
        assert response.status_code == status, (payload, response.text)
    malformed = await client.post(
        FEEDS, content=b"{not json", headers={**keys.admin, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    assert (await client.post(FEEDS, json=body)).status_code == 401
    assert (await client.post(FEEDS, json=body, headers=keys.read)).status_code == 403
    assert (await client.patch(f"{FEEDS}/999999", json={}, headers=keys.admin)).status_code == 404
    null_title = await client.patch(
        f"{FEEDS}/{feed['id']}", json={"title": None}, headers=keys.admin
    )
    assert null_title.status_code == 400
    assert (await client.get(f"{FEEDS}/no-such-feed")).status_code == 404
    assert (await client.get(f"{FEEDS}/both", params={"limit": 0})).status_code == 422
    deleted = await client.delete(f"{FEEDS}/{feed['id']}", headers=keys.admin)
    assert deleted.status_code == 204
    assert (await client.get(f"{FEEDS}/both")).status_code == 404
