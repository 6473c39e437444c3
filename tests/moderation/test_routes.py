"""The admin API: auth, filter CRUD and validation, post decisions, bulk, re-run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.models import InstagramPost
from instagram_service.moderation.routes import router
from instagram_service.settings import Settings
from tests.support.factories import make_account, make_post

Keys = dict[str, dict[str, str]]


@pytest.fixture
async def client(clean_db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=clean_db)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def keys(clean_db: Database) -> Keys:
    async with clean_db.session() as session:
        _, admin = await create_key(session, name="admin", scope="admin")
        _, read = await create_key(session, name="read", scope="read")
    return {
        "admin": {"Authorization": f"Bearer {admin}"},
        "read": {"Authorization": f"Bearer {read}"},
    }


async def add_posts(db: Database, *captions: str, **fields: Any) -> list[InstagramPost]:
    async with db.session() as session:
        account = await make_account(session)
        return [await make_post(session, account, caption=c, **fields) for c in captions]


def messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in response.json()["detail"]]


async def test_no_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/filters")
    assert response.status_code == 401
    assert response.json() == {"detail": "missing API key: send Authorization: Bearer <key>"}


async def test_read_key_may_read_filters(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/api/v1/filters", headers=keys["read"])
    assert response.status_code == 200
    page = response.json()
    assert page == {"items": [], "total": 0, "limit": 50, "offset": 0, "next_offset": None}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/posts/1"),
        ("POST", "/api/v1/filters"),
        ("PATCH", "/api/v1/filters/1"),
        ("DELETE", "/api/v1/filters/1"),
        ("POST", "/api/v1/posts/1/reset-moderation"),
        ("POST", "/api/v1/posts/bulk-moderation"),
        ("POST", "/api/v1/moderation/rerun"),
    ],
)
async def test_read_key_may_not_change(
    client: httpx.AsyncClient, keys: Keys, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=keys["read"], json={})
    assert response.status_code == 403


async def test_filter_crud(client: httpx.AsyncClient, keys: Keys) -> None:
    admin = keys["admin"]
    body = {
        "name": "No competitors",
        "blacklist_hashtags": ["Cheap", "#Café"],
        "keywords": ["How to"],
        "min_likes": 10,
        "min_engagement_rate": 1.5,
        "auto_categorize": True,
        "category": "tutorial",
    }
    created = await client.post("/api/v1/filters", json=body, headers=admin)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["hashtag_blacklist"] == ["#cheap", "#café"]  # returned under the seed's name
    assert (out["priority"], out["is_active"], out["category"]) == (100, True, "tutorial")
    assert out["auto_categorize"] == "tutorial"
    url = f"/api/v1/filters/{out['id']}"

    got = await client.get(url, headers=keys["read"])
    assert got.json() == out
    patched = await client.patch(url, json={"is_active": False, "min_likes": None}, headers=admin)
    assert patched.status_code == 200
    assert (patched.json()["is_active"], patched.json()["min_likes"]) == (False, None)
    assert patched.json()["name"] == "No competitors"

    assert (await client.delete(url, headers=admin)).status_code == 204
    missing = await client.get(url, headers=admin)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"content filter {out['id']} not found"}


SEED_FILTER = {
    "name": "no art",
    "hashtag_blacklist": ["#Spam"],
    "hashtag_whitelist": ["#ours"],
    "content_keywords": ["art"],
    "min_likes": 5,
    "min_engagement_rate": 0.5,
    "auto_approve": True,
    "auto_feature": False,
    "auto_categorize": "portfolio",
}


async def test_filters_speak_the_seeds_field_names(
    client: httpx.AsyncClient, keys: Keys, clean_db: Database
) -> None:
    admin = keys["admin"]
    short = await client.post(
        "/api/v1/filters", json={"name": "no art", "content_keywords": ["art"]}, headers=admin
    )
    assert short.status_code == 201, short.text
    assert short.json()["content_keywords"] == ["art"]
    assert short.json()["auto_categorize"] is None
    created = await client.post("/api/v1/filters", json=SEED_FILTER, headers=admin)
    assert created.status_code == 201, created.text
    out = created.json()
    expected = {**SEED_FILTER, "hashtag_blacklist": ["#spam"]}
    assert {name: out[name] for name in SEED_FILTER} == expected
    assert not {"blacklist_hashtags", "whitelist_hashtags", "blacklist_keywords"} & set(out)
    # the seed's rejecting keywords reject, as today's blacklist_keywords did
    (post,) = await add_posts(clean_db, "My art class", is_approved=None)
    await client.post("/api/v1/moderation/rerun", headers=admin)
    got = await client.get(f"/api/v1/posts/{post.id}", headers=admin)
    assert got.json()["status"] == "rejected"
    url = f"/api/v1/filters/{out['id']}"
    patched = await client.patch(
        url, json={"auto_categorize": None, "content_keywords": []}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["auto_categorize"], patched.json()["content_keywords"]) == (None, [])
    both = await client.post(
        "/api/v1/filters",
        json={"name": "x", "auto_categorize": "portfolio", "category": "tutorial"},
        headers=admin,
    )
    assert both.status_code == 422


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "  "}, "name: String should have at least 1 character"),
        ({"name": "x", "min_likes": -1}, "min_likes: Input should be greater than or equal to 0"),
        (
            {"name": "x", "min_engagement_rate": -0.5},
            "min_engagement_rate: Input should be greater than or equal to 0",
        ),
        ({"name": "x", "category": "Food & drink"}, "category: String should match pattern"),
        ({"name": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"name": "x", "auto_categorize": True}, ": Value error, auto_categorize needs a category"),
        ({"name": "x", "blacklist_hashtags": ["two words"]}, "is not a hashtag"),
        ({"name": "x", "keywords": ["!!!"]}, "keyword '!!!' has no letters, digits or emoji"),
        ({}, "name: Field required"),
    ],
)
async def test_filter_validation(
    client: httpx.AsyncClient, keys: Keys, body: dict[str, Any], message: str
) -> None:
    response = await client.post("/api/v1/filters", json=body, headers=keys["admin"])
    assert any(message in line for line in messages(response)), messages(response)


async def test_filter_patch_validation(client: httpx.AsyncClient, keys: Keys) -> None:
    admin = keys["admin"]
    created = (await client.post("/api/v1/filters", json={"name": "x"}, headers=admin)).json()
    url = f"/api/v1/filters/{created['id']}"
    null_name = await client.patch(url, json={"name": None}, headers=admin)
    assert messages(null_name) == ["name: Value error, may not be null"]
    merged = await client.patch(url, json={"auto_categorize": True}, headers=admin)
    assert merged.status_code == 422
    assert merged.json() == {"detail": "auto_categorize needs a category"}
    missing = await client.patch("/api/v1/filters/999999", json={"name": "y"}, headers=admin)
    assert missing.status_code == 404


async def test_patch_post_sticks_through_a_rerun(
    client: httpx.AsyncClient, keys: Keys, clean_db: Database
) -> None:
    (post,) = await add_posts(clean_db, "Big #sale today", is_approved=None)
    response = await client.patch(
        f"/api/v1/posts/{post.id}",
        json={"is_approved": True, "display_order": 2, "alt_text": "Shelf of products"},
        headers=keys["admin"],
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["status"] == "approved"
    assert out["manual_fields"] == ["is_approved", "display_order", "alt_text"]
    assert out["moderation_reason"] == {"approval": "admin", "order": "admin"}
    assert (out["id"], out["instagram_id"], out["permalink"]) == (
        post.id,
        post.instagram_id,
        post.permalink,
    )

    rule = {"name": "No sales", "blacklist_hashtags": ["#sale"]}
    await client.post("/api/v1/filters", json=rule, headers=keys["admin"])
    rerun = await client.post("/api/v1/moderation/rerun", headers=keys["admin"])
    assert rerun.json() == {"processed": 1, "changed": 1}

    reset = await client.post(f"/api/v1/posts/{post.id}/reset-moderation", headers=keys["admin"])
    out = reset.json()
    assert (out["status"], out["manual_fields"], out["display_order"]) == (
        "rejected",
        [],
        0,
    )
    assert out["moderation_reason"]["approval"].endswith("'No sales': blacklisted hashtag #sale")
    assert out["gallery_category"] == "product"  # the keyword map: "sale"


async def test_patch_post_validation(
    client: httpx.AsyncClient, keys: Keys, clean_db: Database
) -> None:
    (post,) = await add_posts(clean_db, "x")
    url = f"/api/v1/posts/{post.id}"
    admin = keys["admin"]
    assert messages(await client.patch(url, json={}, headers=admin)) == [
        ": Value error, nothing to change: give at least one field"
    ]
    assert messages(await client.patch(url, json={"caption": "y"}, headers=admin)) == [
        "caption: Extra inputs are not permitted"
    ]
    assert messages(await client.patch(url, json={"is_featured": None}, headers=admin)) == [
        "is_featured: Value error, may not be null"
    ]
    bad_name = await client.patch(url, json={"gallery_category": "Food!"}, headers=admin)
    assert messages(bad_name)[0].startswith("gallery_category: String should match pattern")
    unknown = await client.patch(url, json={"gallery_category": "food"}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("unknown category 'food'")
    missing = await client.patch("/api/v1/posts/999999", json={"is_approved": True}, headers=admin)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "post 999999 not found"}


async def test_patch_is_approved_null_means_pending(
    client: httpx.AsyncClient, keys: Keys, clean_db: Database
) -> None:
    (post,) = await add_posts(clean_db, "x", is_approved=True)
    response = await client.patch(
        f"/api/v1/posts/{post.id}", json={"is_approved": None}, headers=keys["admin"]
    )
    assert response.json()["status"] == "pending"
    assert response.json()["manual_fields"] == ["is_approved"]


async def test_bulk_moderation(client: httpx.AsyncClient, keys: Keys, clean_db: Database) -> None:
    posts = await add_posts(clean_db, "a", "b", is_approved=None)
    ids = [p.id for p in posts]
    url = "/api/v1/posts/bulk-moderation"
    response = await client.post(url, json={"ids": ids, "action": "reject"}, headers=keys["admin"])
    assert response.json() == {"action": "reject", "updated": 2, "ids": ids}

    unknown = await client.post(
        url, json={"ids": [ids[0], 999999], "action": "approve"}, headers=keys["admin"]
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "posts not found: 999999"}
    # nothing changed by the failed request
    rerun = await client.post("/api/v1/moderation/rerun", headers=keys["admin"])
    assert rerun.status_code == 200
    reset = await client.post(f"/api/v1/posts/{ids[1]}/reset-moderation", headers=keys["admin"])
    assert reset.json()["status"] == "approved"
    patched = await client.patch(
        f"/api/v1/posts/{ids[0]}", json={"alt_text": "a"}, headers=keys["admin"]
    )
    assert patched.json()["status"] == "rejected"

    bad = await client.post(url, json={"ids": [], "action": "hide"}, headers=keys["admin"])
    assert len(messages(bad)) == 2


async def test_a_category_outside_the_managed_list_is_422(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    body = {"name": "x", "auto_categorize": True, "category": "food"}
    response = await client.post("/api/v1/filters", json=body, headers=keys["admin"])
    assert response.status_code == 422
    assert response.json()["detail"].startswith("unknown category 'food': create it first")
