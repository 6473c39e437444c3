"""A re-run of the rules tells subscribed CMSs what it changed in the gallery, like an admin
change or a sync does; from the API it can run as a task whose progress is readable."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import update

from instagram_service.db import Database
from instagram_service.models import ContentFilter, InstagramPost, MediaStatus
from instagram_service.moderation.rerun import rerun_moderation
from instagram_service.moderation.rerun_status import (
    MemoryStatusStore,
    RedisStatusStore,
    RerunStatus,
    StatusStore,
)
from instagram_service.settings import Settings
from tests.factories import make_account, make_post
from tests.moderation.support import filter_fields
from tests.webhooks.support import (
    AppEnv,
    Receiver,
    drain,
    running_app,
    running_receiver,
    webhook_settings,
)

EVENTS = ["post.published", "post.updated", "post.removed", "gallery.changed"]
RERUN = "/api/v1/moderation/rerun"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver()) as r:
        yield r


@pytest.fixture
async def env(settings: Settings, clean_db: Database) -> AsyncIterator[AppEnv]:
    async with running_app(webhook_settings(settings), clean_db) as app_env:
        yield app_env


async def subscribe(env: AppEnv, receiver: Receiver) -> None:
    body = {"url": receiver.url, "events": EVENTS}
    response = await env.http.post("/api/v1/webhook-subscriptions", json=body, headers=env.admin)
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]


async def gallery_posts(db: Database, settings: Settings) -> dict[str, InstagramPost]:
    """Four public posts, settled by a first re-run (nobody subscribed yet)."""
    async with db.session() as session:
        account = await make_account(session)
        posts = {
            name: await make_post(
                session, account, caption=caption, hashtags=[], media_status=MediaStatus.READY
            )
            for name, caption in [
                ("sale", "Big #sale today"),
                ("tutorial", "How to braid your hair"),
                ("quiet", "A quiet morning"),
                ("hidden", "A quiet evening"),
            ]
        }
    await rerun_moderation(db, settings)
    return posts


def by_type(receiver: Receiver) -> Counter[str]:
    return Counter(hit.json["type"] for hit in receiver.received)


def post_ids(receiver: Receiver, event_type: str) -> list[int]:
    return [hit.json["data"]["id"] for hit in receiver.received if hit.json["type"] == event_type]


async def change_behind_the_gallery(db: Database, posts: dict[str, InstagramPost]) -> None:
    """What the next re-run must notice: a new rule, a stale category, a hidden post."""
    async with db.session() as session:
        session.add(ContentFilter(**filter_fields(name="No sales", blacklist_hashtags=["#sale"])))
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == posts["tutorial"].id)
            .values(gallery_category="general")
        )
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == posts["hidden"].id)
            .values(is_approved=False)
        )


def assert_told(receiver: Receiver, posts: dict[str, InstagramPost]) -> None:
    assert all(hit.verified for hit in receiver.received)
    assert by_type(receiver) == {
        "post.removed": 1,
        "post.published": 1,
        "post.updated": 1,
        "gallery.changed": 1,
    }
    assert post_ids(receiver, "post.removed") == [posts["sale"].id]
    assert post_ids(receiver, "post.published") == [posts["hidden"].id]
    assert post_ids(receiver, "post.updated") == [posts["tutorial"].id]
    (updated,) = [h.json["data"] for h in receiver.received if h.json["type"] == "post.updated"]
    assert updated["category"] == "tutorial"  # the public shape, after the change


async def test_rerun_emits_what_changed_in_the_gallery(
    env: AppEnv, receiver: Receiver, settings: Settings
) -> None:
    posts = await gallery_posts(env.db, settings)
    await subscribe(env, receiver)
    await change_behind_the_gallery(env.db, posts)

    result = await rerun_moderation(
        env.db, settings.model_copy(update={"moderation_batch_size": 2})
    )
    await drain()

    assert result.public_changes == 3
    assert_told(receiver, posts)
    # The quiet post's reason changed ("default: approve (no active rules)" is gone), but
    # nothing the public sees: no event for it.
    assert posts["quiet"].id not in {h.json["data"].get("id") for h in receiver.received}

    again = await rerun_moderation(env.db, settings)
    await drain()
    assert (again.changed, again.public_changes) == (0, 0)
    assert len(receiver.received) == 4  # nothing new to tell


async def test_rerun_through_the_api_inline_emits_too(
    env: AppEnv, receiver: Receiver, settings: Settings
) -> None:
    posts = await gallery_posts(env.db, settings)
    await subscribe(env, receiver)
    await change_behind_the_gallery(env.db, posts)
    response = await env.http.post(RERUN, headers=env.admin)
    assert response.status_code == 200
    assert response.json() == {"processed": 4, "changed": 4}
    await drain()
    assert_told(receiver, posts)


async def poll(env: AppEnv, location: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await env.http.get(location, headers=env.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_rerun_as_a_task_with_progress(
    settings: Settings, clean_db: Database, receiver: Receiver, store: str, redis_url: str | None
) -> None:
    if store == "redis" and redis_url is None:
        pytest.skip("IGS_TEST_REDIS_URL is not set")
    small = webhook_settings(
        settings, moderation_batch_size=2, redis_url=redis_url if store == "redis" else None
    )
    async with running_app(small, clean_db) as env:
        posts = await gallery_posts(env.db, settings)
        await subscribe(env, receiver)
        await change_behind_the_gallery(env.db, posts)

        response = await env.http.post(RERUN, headers={**env.admin, "Prefer": "respond-async"})
        assert response.status_code == 202, response.text
        queued = response.json()
        location = response.headers["location"]
        assert location == f"{RERUN}/{queued['id']}"
        assert queued["status"] in ("queued", "running")

        done = await poll(env, location)
        assert done["status"] == "completed", done
        assert (done["processed"], done["total"], done["changed"]) == (4, 4, 4)
        assert done["public_changes"] == 3
        assert done["error"] is None
        await drain()
        assert_told(receiver, posts)

        read_key = await env.http.post(
            "/api/v1/keys", json={"name": "r", "scope": "read"}, headers=env.admin
        )
        reader = {"Authorization": f"Bearer {read_key.json()['key']}"}
        assert (await env.http.get(location, headers=reader)).status_code == 403
        forbidden = await env.http.post(RERUN, headers={**reader, "Prefer": "respond-async"})
        assert forbidden.status_code == 403


async def test_unknown_or_malformed_run_ids(env: AppEnv) -> None:
    missing = await env.http.get(f"{RERUN}/{'0' * 32}", headers=env.admin)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"moderation rerun {'0' * 32} not found"}
    assert (await env.http.get(f"{RERUN}/../x", headers=env.admin)).status_code == 404
    assert (await env.http.get(f"{RERUN}/NOT-AN-ID", headers=env.admin)).status_code == 422
    assert (await env.http.get(f"{RERUN}/{'0' * 32}")).status_code == 401


async def _round_trip(store: StatusStore) -> None:
    from instagram_service.db import utcnow

    now = utcnow()
    status = RerunStatus(id="a" * 32, status="running", processed=3, created_at=now, updated_at=now)
    assert await store.get(status.id) is None
    await store.put(status)
    assert await store.get(status.id) == status


async def test_memory_store_keeps_the_newest() -> None:
    store = MemoryStatusStore()
    await _round_trip(store)


async def test_redis_store(redis_url: str | None) -> None:
    if redis_url is None:
        pytest.skip("IGS_TEST_REDIS_URL is not set")
    from redis.asyncio import Redis

    client: Redis = Redis.from_url(redis_url)
    await client.delete("igs:moderation:rerun:" + "a" * 32)
    await client.aclose()
    await _round_trip(RedisStatusStore(redis_url))
