"""HTTP caching (ETags, 304, Cache-Control), image routes, and CORS."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.models import InstagramAccount, InstagramPost, PostMedia
from instagram_service.posts.cache import gallery_cache
from instagram_service.settings import Settings
from tests.api.conftest import Data, Keys

GALLERY_PATHS = ["/api/v1/gallery", "/api/v1/gallery/featured", "/api/v1/gallery?category=general"]


@pytest.mark.parametrize("path", GALLERY_PATHS)
async def test_gallery_etag_and_304(
    client: httpx.AsyncClient, app_settings: Settings, path: str
) -> None:
    first = await client.get(path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    max_age = app_settings.gallery_cache_seconds
    assert first.headers["cache-control"] == (
        f"public, max-age={max_age}, stale-while-revalidate={max_age * 10}"
    )
    again = await client.get(path)
    assert again.headers["etag"] == etag
    assert again.content == first.content
    for sent in (etag, f'"other", {etag}'):
        not_modified = await client.get(path, headers={"If-None-Match": sent})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert "max-age" in not_modified.headers["cache-control"]
    stale = await client.get(path, headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_etag_differs_between_pages(client: httpx.AsyncClient) -> None:
    one = await client.get("/api/v1/gallery", params={"limit": 2})
    two = await client.get("/api/v1/gallery", params={"limit": 2, "offset": 2})
    assert one.headers["etag"] != two.headers["etag"]


async def test_etag_changes_when_a_visible_post_changes(
    client: httpx.AsyncClient, data: Data, keys: Keys
) -> None:
    post_id = data.ordered
    before = await client.get("/api/v1/gallery")
    featured_before = await client.get("/api/v1/gallery/featured")
    try:
        patched = await client.patch(
            f"/api/v1/posts/{post_id}", json={"is_featured": True}, headers=keys.admin
        )
        assert patched.status_code == 200, patched.text
        after = await client.get(
            "/api/v1/gallery", headers={"If-None-Match": before.headers["etag"]}
        )
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert after.json()["items"][0]["id"] == post_id  # featured now, display order -5
        featured = await client.get("/api/v1/gallery/featured")
        assert featured.headers["etag"] != featured_before.headers["etag"]
        assert post_id in [item["id"] for item in featured.json()["items"]]
    finally:
        restored = await client.patch(
            f"/api/v1/posts/{post_id}", json={"is_featured": False}, headers=keys.admin
        )
        assert restored.status_code == 200
    back = await client.get("/api/v1/gallery")
    assert back.content == before.content
    assert back.headers["etag"] == before.headers["etag"]


async def test_hiding_a_post_changes_the_gallery_at_once(
    client: httpx.AsyncClient, data: Data, keys: Keys
) -> None:
    post_id = data.ordered
    before = (await client.get("/api/v1/gallery")).json()
    try:
        response = await client.patch(
            f"/api/v1/posts/{post_id}", json={"is_approved": False}, headers=keys.admin
        )
        assert response.status_code == 200
        after = (await client.get("/api/v1/gallery")).json()
        assert after["total"] == before["total"] - 1
        assert post_id not in [item["id"] for item in after["items"]]
        assert (await client.get(f"/api/v1/posts/{post_id}")).status_code == 404
        assert (await client.get(f"/images/{post_id}/thumbnail")).status_code == 404
    finally:
        await client.patch(
            f"/api/v1/posts/{post_id}", json={"is_approved": True}, headers=keys.admin
        )
    assert (await client.get("/api/v1/gallery")).json()["total"] == before["total"]


async def test_changes_by_another_process_show_within_a_second(
    client: httpx.AsyncClient, db: Database, data: Data
) -> None:
    """A Core UPDATE fires no ORM events, as if a worker process had changed the post."""
    post = data.posts[data.ordered]
    before = await client.get("/api/v1/gallery")
    await client.get("/api/v1/gallery")  # now answered before any validation or query
    try:
        async with db.engine.begin() as connection:
            await connection.execute(
                update(InstagramPost)
                .where(InstagramPost.id == post.id)
                .values(caption="changed elsewhere", updated_at=datetime.now(UTC))
            )
        await asyncio.sleep(gallery_cache.check_interval_s + 0.1)
        after = await client.get("/api/v1/gallery")
        assert after.headers["etag"] != before.headers["etag"]
        item = next(i for i in after.json()["items"] if i["id"] == post.id)
        assert item["caption"] == "changed elsewhere"
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(
                update(InstagramPost)
                .where(InstagramPost.id == post.id)
                .values(caption=post.caption, updated_at=datetime.now(UTC))
            )
        gallery_cache.invalidate()


@asynccontextmanager
async def in_another_process(db: Database) -> AsyncIterator[AsyncSession]:
    """A unit of work as a worker, the CLI or another API replica commits it: through the
    ORM, but this process's cache is not told (it must find out through its check)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gallery_cache, "invalidate", lambda: None)
        async with db.session() as session:
            yield session


async def content_versions(db: Database) -> dict[int, int]:
    async with db.sessionmaker() as session:
        rows = await session.execute(select(InstagramAccount.id, InstagramAccount.content_version))
        return dict(rows.tuples().all())


async def test_a_change_committed_with_an_older_timestamp_shows_too(
    client: httpx.AsyncClient, db: Database, data: Data
) -> None:
    """`updated_at` is set at flush time, so a transaction can commit one older than the
    newest already committed: the timestamps do not move, the account's content_version does."""
    post = data.posts[data.ordered]
    async with db.engine.begin() as connection:  # a hidden post holds the newest timestamp
        await connection.execute(
            update(InstagramPost)
            .where(InstagramPost.id == data.pending)
            .values(updated_at=datetime.now(UTC))
        )
    gallery_cache.invalidate()
    before = await client.get("/api/v1/gallery")
    await client.get("/api/v1/gallery")
    try:
        async with in_another_process(db) as session:
            row = await session.get(InstagramPost, post.id)
            assert row is not None
            row.caption = "committed late"
            row.updated_at = datetime.now(UTC) - timedelta(seconds=5)
        await asyncio.sleep(gallery_cache.check_interval_s + 0.1)
        after = await client.get("/api/v1/gallery")
        assert after.headers["etag"] != before.headers["etag"]
        item = next(i for i in after.json()["items"] if i["id"] == post.id)
        assert item["caption"] == "committed late"
    finally:
        async with db.session() as session:
            row = await session.get(InstagramPost, post.id)
            assert row is not None
            row.caption = post.caption
        gallery_cache.invalidate()


async def test_a_carousel_child_changed_elsewhere_bumps_its_account_version(
    client: httpx.AsyncClient, db: Database, data: Data
) -> None:
    carousel = data.posts[data.carousel]
    child = carousel.children[0]
    async with db.engine.begin() as connection:  # another child holds the newest timestamp
        await connection.execute(
            update(PostMedia).where(PostMedia.id != child.id).values(updated_at=datetime.now(UTC))
        )
    gallery_cache.invalidate()
    params = {"limit": 100}
    before = await client.get("/api/v1/gallery", params=params)
    versions = await content_versions(db)
    try:
        async with in_another_process(db) as session:
            row = await session.get(PostMedia, child.id)
            assert row is not None
            row.alt_text = "child changed elsewhere"
            row.updated_at = datetime.now(UTC) - timedelta(seconds=5)
        expected = {**versions, carousel.account_id: versions[carousel.account_id] + 1}
        assert await content_versions(db) == expected  # its account only, once
        await asyncio.sleep(gallery_cache.check_interval_s + 0.1)
        after = await client.get("/api/v1/gallery", params=params)
        assert after.headers["etag"] != before.headers["etag"]
        item = next(i for i in after.json()["items"] if i["id"] == carousel.id)
        assert item["children"][0]["alt_text"] == "child changed elsewhere"
    finally:
        async with db.session() as session:
            row = await session.get(PostMedia, child.id)
            assert row is not None
            row.alt_text = child.alt_text
        gallery_cache.invalidate()


def image_urls(item: dict[str, object]) -> dict[str, str]:
    image = item["image"]
    assert isinstance(image, dict)
    return dict(image["urls"])


async def test_image_routes(client: httpx.AsyncClient, data: Data) -> None:
    items = (await client.get("/api/v1/gallery", params={"limit": 100})).json()["items"]
    item = next(i for i in items if i["id"] == data.ordered)
    urls = image_urls(item)
    assert set(urls) >= {"original", "thumbnail", "optimized"}
    for name, url in urls.items():
        response = await client.get(url)
        assert response.status_code == 200, (name, response.text)
        variant = data.posts[data.ordered].variants[name]
        expected_type = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}
        assert response.headers["content-type"] == expected_type[variant["format"]]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        etag = response.headers["etag"]
        assert re.fullmatch(r'"[A-Za-z0-9_.-]+"', etag)
        assert not etag.startswith("W/")
        if response.headers["content-type"] == "image/webp":
            assert response.content[:4] == b"RIFF"
            assert response.content[8:12] == b"WEBP"
        not_modified = await client.get(url, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag


async def test_image_without_matching_version_is_not_immutable(
    client: httpx.AsyncClient, data: Data
) -> None:
    for query in ("", "?v=0000000000ab", "?v="):
        response = await client.get(f"/images/{data.ordered}/thumbnail{query}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=300"


async def test_carousel_child_images(client: httpx.AsyncClient, data: Data) -> None:
    post = data.posts[data.carousel]
    for child in post.children:
        version = (child.content_hash or "")[:12]
        url = f"/images/{post.id}/{child.position}/optimized?v={version}"
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = await client.get(f"/images/{post.id}/{len(post.children)}/optimized")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"post {post.id} has no image {len(post.children)}"}


async def test_image_routes_hide_what_the_gallery_hides(
    client: httpx.AsyncClient, data: Data
) -> None:
    for post_id in sorted(data.hidden) + [999999]:
        for path in (f"/images/{post_id}/thumbnail", f"/images/{post_id}/0/thumbnail"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"detail": f"post {post_id} not found"}


@pytest.mark.parametrize(
    "path",
    [
        "/images/1/huge",
        "/images/1/thumbnail.png",
        "/images/x/thumbnail",
        "/images/1/21/thumbnail",
        "/images/1/-1/thumbnail",
        "/images/1/thumbnail?v=XYZ",
    ],
)
async def test_bad_image_paths_are_422(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 422


async def test_cors(app_settings: Settings, db: Database, keys: Keys) -> None:
    """Admin routes: the configured origins only. Public GETs: any origin, no credentials."""
    settings = app_settings.model_copy(update={"cors_origins": ["https://shop.example"]})
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    admin_preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        allowed = await http.options(
            "/api/v1/posts", headers={"Origin": "https://shop.example", **admin_preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        refused = await http.options(
            "/api/v1/posts", headers={"Origin": "https://evil.example", **admin_preflight}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        admin_get = await http.get(
            "/api/v1/posts", headers={"Origin": "https://evil.example", **keys.read}
        )
        assert admin_get.status_code == 200
        assert "access-control-allow-origin" not in admin_get.headers

        public_preflight = {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        }
        for origin in ("https://shop.example", "https://evil.example"):
            preflight = await http.options(
                "/api/v1/gallery", headers={"Origin": origin, **public_preflight}
            )
            assert preflight.status_code == 204
            assert preflight.headers["access-control-allow-origin"] == "*"
            assert "if-none-match" in preflight.headers["access-control-allow-headers"].lower()
            simple = await http.get("/api/v1/gallery", headers={"Origin": origin})
            assert simple.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in simple.headers
            assert "etag" in simple.headers["access-control-expose-headers"].lower()
