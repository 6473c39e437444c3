"""One post (public or admin shape) and the admin listing with every filter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Data, Keys, public_ids

PAGE_KEYS = {"items", "total", "limit", "offset", "next_offset"}


async def test_public_post_without_key(client: httpx.AsyncClient, data: Data) -> None:
    post_id = next(iter(public_ids(data)))
    response = await client.get(f"/api/v1/posts/{post_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == post_id
    assert body["instagram_id"] == data.posts[post_id].instagram_id
    assert body["permalink"] == data.posts[post_id].permalink
    assert "status" not in body
    assert "is_approved" not in body


async def test_hidden_posts_are_404_without_key(client: httpx.AsyncClient, data: Data) -> None:
    for post_id in sorted(data.hidden):
        response = await client.get(f"/api/v1/posts/{post_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": f"post {post_id} not found"}


async def test_any_post_with_key_in_admin_shape(
    client: httpx.AsyncClient, data: Data, keys: Keys
) -> None:
    expected = {
        data.pending: "pending",
        data.rejected: "rejected",
        data.deleted: "approved",
        data.not_stored: "approved",
    }
    for post_id, status in expected.items():
        response = await client.get(f"/api/v1/posts/{post_id}", headers=keys.read)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == status
        assert body["instagram_id"] == data.posts[post_id].instagram_id
        assert body["account_id"] == data.posts[post_id].account_id
    deleted = (await client.get(f"/api/v1/posts/{data.deleted}", headers=keys.admin)).json()
    assert deleted["deleted_at"] is not None
    not_stored = await client.get(f"/api/v1/posts/{data.not_stored}", headers=keys.read)
    assert not_stored.json()["media_status"] == "failed"
    assert not_stored.json()["image"] is None


async def test_unknown_post_is_404_with_message(client: httpx.AsyncClient, keys: Keys) -> None:
    for headers in ({}, keys.read):
        response = await client.get("/api/v1/posts/999999", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "post 999999 not found"}


async def test_invalid_post_id_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/posts/abc")).status_code == 422


async def admin_ids(client: httpx.AsyncClient, keys: Keys, **params: Any) -> list[int]:
    response = await client.get("/api/v1/posts", params={"limit": 100, **params}, headers=keys.read)
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == PAGE_KEYS
    assert page["total"] == len(page["items"])
    return [item["id"] for item in page["items"]]


async def test_admin_list_newest_first_without_deleted(
    client: httpx.AsyncClient, data: Data, keys: Keys
) -> None:
    ids = await admin_ids(client, keys)
    alive = [p for p in data.posts.values() if p.id != data.deleted]
    ranked = sorted(alive, key=lambda p: (p.posted_at, p.id), reverse=True)
    assert ids == [p.id for p in ranked]


async def test_admin_list_pages(client: httpx.AsyncClient, data: Data, keys: Keys) -> None:
    total = len(data.posts) - 1
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        params = {"limit": 7, "offset": offset}
        page = (await client.get("/api/v1/posts", params=params, headers=keys.read)).json()
        assert page["total"] == total
        assert page["next_offset"] == (offset + 7 if offset + 7 < total else None)
        seen += [item["id"] for item in page["items"]]
        offset = page["next_offset"]
    assert seen == await admin_ids(client, keys)


@pytest.mark.parametrize("status", ["pending", "approved", "rejected"])
async def test_status_filter(
    client: httpx.AsyncClient, data: Data, keys: Keys, status: str
) -> None:
    expected = {"pending": None, "approved": True, "rejected": False}[status]
    wanted = {
        p.id for p in data.posts.values() if p.is_approved is expected and p.id != data.deleted
    }
    ids = await admin_ids(client, keys, status=status)
    assert set(ids) == wanted
    assert wanted


async def test_deleted_filter(client: httpx.AsyncClient, data: Data, keys: Keys) -> None:
    assert await admin_ids(client, keys, deleted=True) == [data.deleted]
    assert data.deleted not in await admin_ids(client, keys, deleted=False)


async def test_featured_filter(client: httpx.AsyncClient, data: Data, keys: Keys) -> None:
    featured = set(await admin_ids(client, keys, featured=True))
    assert featured == {*data.featured, data.pending}  # the deleted featured post is left out
    others = set(await admin_ids(client, keys, featured=False))
    assert not featured & others
    assert len(featured | others) == len(data.posts) - 1


async def test_category_and_account_filters(
    client: httpx.AsyncClient, data: Data, keys: Keys
) -> None:
    post = data.posts[data.ordered]
    ids = await admin_ids(client, keys, category=post.gallery_category)
    assert post.id in ids
    assert all(data.posts[i].gallery_category == post.gallery_category for i in ids)
    for username, account_id in data.accounts.items():
        for ref in (username, str(account_id)):
            ids = await admin_ids(client, keys, account=ref)
            assert {data.posts[i].account_id for i in ids} == {account_id}
    assert await admin_ids(client, keys, account="nobody") == []


async def test_text_search(client: httpx.AsyncClient, data: Data, keys: Keys) -> None:
    post = data.posts[data.ordered]
    words = [w for w in (post.caption or "").split() if w.isascii() and w.isalpha()]
    word = max(words, key=len)  # ASCII: SQLite's LIKE folds ASCII case only
    ids = await admin_ids(client, keys, q=word.upper())
    assert post.id in ids
    assert all(word.lower() in (data.posts[i].caption or "").lower() for i in ids)
    assert await admin_ids(client, keys, q=post.instagram_id) == [post.id]
    assert await admin_ids(client, keys, q="no-such-words-anywhere") == []
    assert await admin_ids(client, keys, q="100%_") == []  # LIKE wildcards are literal


async def test_filters_combine(client: httpx.AsyncClient, data: Data, keys: Keys) -> None:
    ids = await admin_ids(client, keys, status="approved", featured=True)
    assert set(ids) == set(data.featured)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "maybe"},
        {"featured": "perhaps"},
        {"deleted": "x"},
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"q": "x" * 201},
        {"account": "x" * 65},
    ],
)
async def test_invalid_admin_filters_are_422(
    client: httpx.AsyncClient, keys: Keys, params: dict[str, Any]
) -> None:
    response = await client.get("/api/v1/posts", params=params, headers=keys.read)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("PATCH", "/api/v1/posts/999999", "post 999999 not found"),
        ("POST", "/api/v1/posts/999999/reset-moderation", "post 999999 not found"),
        ("GET", "/api/v1/sync/jobs/999999", None),
        ("GET", "/api/v1/accounts/999999", None),
        ("PATCH", "/api/v1/accounts/999999", None),
        ("DELETE", "/api/v1/accounts/999999", None),
        ("GET", "/api/v1/filters/999999", "content filter 999999 not found"),
        ("DELETE", "/api/v1/filters/999999", "content filter 999999 not found"),
        ("DELETE", "/api/v1/keys/999999", "API key 999999 not found"),
        ("GET", "/api/v1/webhook-subscriptions/999999", None),
    ],
)
async def test_unknown_ids_are_404_with_a_message(
    client: httpx.AsyncClient, keys: Keys, method: str, path: str, message: str | None
) -> None:
    body = {"is_featured": True} if method == "PATCH" and "posts" in path else None
    if method == "PATCH" and "accounts" in path:
        body = {"auto_sync": False}
    response = await client.request(method, path, json=body, headers=keys.admin)
    assert response.status_code == 404, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "999999" in detail
    if message:
        assert detail == message


@pytest.mark.parametrize(
    "path", ["/api/v1/gallery", "/api/v1/gallery/featured", "/api/v1/posts", "/api/v1/sync/jobs"]
)
async def test_page_shape_is_the_same_everywhere(
    client: httpx.AsyncClient, keys: Keys, path: str
) -> None:
    page = (await client.get(path, params={"limit": 1}, headers=keys.read)).json()
    assert set(page) == PAGE_KEYS
    assert (page["limit"], page["offset"]) == (1, 0)
    assert page["next_offset"] == (1 if page["total"] > 1 else None)
