"""The public gallery: what it shows, in which order, filters, pages and categories."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from instagram_service.models import InstagramPost
from tests.api.conftest import Data, public_ids


def gallery_order(posts: list[InstagramPost]) -> list[int]:
    """Featured first, then display_order, then newest (id breaks ties)."""
    ranked = sorted(posts, key=lambda p: (p.id,), reverse=True)
    ranked = sorted(ranked, key=lambda p: p.posted_at, reverse=True)
    ranked = sorted(ranked, key=lambda p: (not p.is_featured, p.display_order))
    return [p.id for p in ranked]


def public_posts(data: Data) -> list[InstagramPost]:
    return [data.posts[i] for i in public_ids(data)]


async def get_all(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item, page by page, checking the page shape on the way."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        response = await client.get(path, params={**params, "limit": 4, "offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "total", "limit", "offset", "next_offset"}
        assert (page["limit"], page["offset"]) == (4, offset)
        assert len(page["items"]) == min(4, max(page["total"] - offset, 0))
        expected_next = offset + 4 if offset + 4 < page["total"] else None
        assert page["next_offset"] == expected_next
        items += page["items"]
        offset = page["next_offset"]
    return items


async def test_gallery_shows_public_posts_in_order(client: httpx.AsyncClient, data: Data) -> None:
    response = await client.get("/api/v1/gallery", params={"limit": 100})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    expected = gallery_order(public_posts(data))
    assert [item["id"] for item in page["items"]] == expected
    assert page["total"] == len(expected)
    assert page["next_offset"] is None
    # The rules this data set exercises: two featured, the second by display order first,
    # then the not-featured post moved up by hand, then newest first.
    assert expected[:3] == [data.featured[1], data.featured[0], data.ordered]
    rest = [data.posts[i].posted_at for i in expected[3:]]
    assert rest == sorted(rest, reverse=True)


async def test_pages_cover_the_gallery_once(client: httpx.AsyncClient, data: Data) -> None:
    items = await get_all(client, "/api/v1/gallery")
    assert [i["id"] for i in items] == gallery_order(public_posts(data))


async def test_hidden_posts_never_appear(client: httpx.AsyncClient, data: Data) -> None:
    for path in ("/api/v1/gallery", "/api/v1/gallery/featured"):
        shown = {i["id"] for i in (await client.get(path, params={"limit": 100})).json()["items"]}
        assert not shown & data.hidden, path


async def test_featured_lists_featured_public_posts(client: httpx.AsyncClient, data: Data) -> None:
    page = (await client.get("/api/v1/gallery/featured")).json()
    assert [i["id"] for i in page["items"]] == [data.featured[1], data.featured[0]]
    assert all(i["featured"] for i in page["items"])
    assert (page["total"], page["limit"], page["offset"], page["next_offset"]) == (2, 12, 0, None)
    assert len(await get_all(client, "/api/v1/gallery/featured")) == 2


async def test_category_filter(client: httpx.AsyncClient, data: Data) -> None:
    counts = Counter(p.gallery_category for p in public_posts(data))
    assert len(counts) > 1
    for category, count in counts.items():
        items = await get_all(client, "/api/v1/gallery", category=category)
        assert len(items) == count
        assert {i["category"] for i in items} == {category}
    empty = (await client.get("/api/v1/gallery", params={"category": "nothing"})).json()
    assert (empty["items"], empty["total"], empty["next_offset"]) == ([], 0, None)


@pytest.mark.parametrize("form", ["username", "@username", "id"])
async def test_account_filter(client: httpx.AsyncClient, data: Data, form: str) -> None:
    for username, account_id in data.accounts.items():
        ref = {"username": username, "@username": f"@{username}", "id": str(account_id)}[form]
        items = await get_all(client, "/api/v1/gallery", account=ref)
        expected = [p for p in public_posts(data) if p.account_id == account_id]
        assert [i["id"] for i in items] == gallery_order(expected)
        assert {i["username"] for i in items} == {username}
        featured = await get_all(client, "/api/v1/gallery/featured", account=ref)
        assert {i["id"] for i in featured} == {p.id for p in expected if p.is_featured}


async def test_unknown_account_is_an_empty_page(client: httpx.AsyncClient) -> None:
    page = (await client.get("/api/v1/gallery", params={"account": "nobody"})).json()
    assert (page["items"], page["total"]) == ([], 0)


async def test_offset_past_the_end(client: httpx.AsyncClient, data: Data) -> None:
    page = (await client.get("/api/v1/gallery", params={"offset": 1000})).json()
    assert page == {
        "items": [],
        "total": len(public_ids(data)),
        "limit": 24,
        "offset": 1000,
        "next_offset": None,
    }


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/gallery", {"limit": 101}),
        ("/api/v1/gallery", {"limit": 0}),
        ("/api/v1/gallery", {"offset": -1}),
        ("/api/v1/gallery", {"limit": "many"}),
        ("/api/v1/gallery", {"category": "x" * 33}),
        ("/api/v1/gallery/featured", {"limit": 101}),
        ("/api/v1/gallery/featured", {"offset": "first"}),
    ],
)
async def test_invalid_parameters_are_422(
    client: httpx.AsyncClient, path: str, params: dict[str, Any]
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


async def test_limit_100_is_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/gallery", params={"limit": 100})).status_code == 200


async def test_categories_count_public_posts_only(client: httpx.AsyncClient, data: Data) -> None:
    response = await client.get("/api/v1/gallery/categories")
    assert response.status_code == 200
    assert "max-age=" in response.headers["cache-control"]
    counts = Counter(p.gallery_category for p in public_posts(data))
    items = response.json()["items"]
    assert {i["category"]: i["count"] for i in items} == dict(counts)
    assert [i["count"] for i in items] == sorted(counts.values(), reverse=True)


async def test_public_post_shape(client: httpx.AsyncClient, data: Data) -> None:
    items = (await client.get("/api/v1/gallery", params={"limit": 100})).json()["items"]
    by_id = {i["id"]: i for i in items}
    post = data.posts[data.ordered]
    item = by_id[post.id]
    assert item["instagram_id"] == post.instagram_id
    assert item["permalink"] == post.permalink
    assert "is_approved" not in item
    assert "status" not in item
    assert "media_url" not in item
    version = (post.content_hash or "")[:12]
    # Absolute, from the request when IGS_PUBLIC_BASE_URL is not set.
    thumbnail = f"http://testserver/images/{post.id}/thumbnail?v={version}"
    assert item["image"]["urls"]["thumbnail"] == thumbnail
    widths = [post.variants[name]["width"] for name in ("thumbnail", "optimized", "large")]
    assert [part.rsplit(" ", 1)[1] for part in item["image"]["srcset"].split(", ")] == [
        f"{w}w" for w in widths
    ]
    carousel = by_id[data.carousel]
    children = data.posts[data.carousel].children
    assert len(carousel["children"]) == len(children) > 1
    assert carousel["children"][1]["urls"]["optimized"].startswith(
        f"http://testserver/images/{data.carousel}/1/optimized?v="
    )
