"""The gallery cache under concurrency: one build per miss however many requests wait, and a
sync's commits left to the periodic check (real database: the check queries it)."""

from __future__ import annotations

import asyncio

import pytest

from instagram_service.db import Database
from instagram_service.models import InstagramAccount
from instagram_service.posts.cache import GalleryCache, drops_deferred, gallery_cache


async def _checked_cache(db: Database) -> GalleryCache:
    """A cache whose first check ran (it notes the database's state; misses meanwhile may
    build on their own, as they cannot know yet whether rows changed)."""
    cache = GalleryCache(check_interval_s=60)

    async def other() -> bytes:
        return b"-"

    await cache.get(db, "other", other)
    return cache


class SlowBuild:
    """A page build that takes a while, counting its calls; the first `failing` ones fail."""

    def __init__(self, body: bytes, failing: int = 0) -> None:
        self.body, self.failing, self.calls = body, failing, 0

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(0.03)
        if self.calls <= self.failing:
            raise RuntimeError("the database went away")
        return self.body


async def test_concurrent_misses_share_one_build(db: Database) -> None:
    cache = await _checked_cache(db)
    build = SlowBuild(b'{"items": []}')
    hits = await asyncio.gather(*(cache.get(db, "gallery", build) for _ in range(20)))
    assert build.calls == 1
    assert all(hit is hits[0] for hit in hits)
    cache.invalidate()  # a change: the next miss builds again, once
    again = await asyncio.gather(*(cache.get(db, "gallery", build) for _ in range(5)))
    assert build.calls == 2
    assert again[0] is not hits[0]
    assert all(hit is again[0] for hit in again)


async def test_a_failed_build_is_not_shared(db: Database) -> None:
    cache = await _checked_cache(db)
    build = SlowBuild(b"{}", failing=1)
    first, *rest = await asyncio.gather(
        *(cache.get(db, "gallery", build) for _ in range(4)), return_exceptions=True
    )
    assert isinstance(first, RuntimeError)  # the leader's own error, not the waiters'
    assert all(not isinstance(r, BaseException) and r.body == b"{}" for r in rest)
    assert build.calls == 2


async def test_a_cancelled_waiter_leaves_the_build_running(db: Database) -> None:
    cache = await _checked_cache(db)
    release = asyncio.Event()

    async def build() -> bytes:
        await release.wait()
        return b"[]"

    leader = asyncio.create_task(cache.get(db, "gallery", build))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(cache.get(db, "gallery", build))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    assert (await leader).body == b"[]"


async def _touch_an_account(db: Database, n: int) -> None:
    async with db.session() as session:
        session.add(InstagramAccount(instagram_user_id=f"55{n:06d}", username=f"cache_{n}",
                                     access_token_encrypted=b"-"))  # fmt: skip


async def _cached(db: Database) -> tuple[str, bytes]:
    gallery_cache.invalidate()
    raw = ("/api/v1/gallery", b"limit=1")

    async def build() -> bytes:
        return b"{}"

    await gallery_cache.get(db, "cache-test", build, raw)
    assert gallery_cache.fresh(raw) is not None
    return raw


async def test_a_syncs_commits_wait_for_the_periodic_check(clean_db: Database) -> None:
    raw = await _cached(clean_db)
    with drops_deferred():
        await _touch_an_account(clean_db, 1)
        assert gallery_cache.fresh(raw) is not None  # still served: the check sees it soon
    assert gallery_cache.fresh(raw) is None  # the job ended: dropped at once


async def test_other_commits_drop_the_cache_at_once(clean_db: Database) -> None:
    raw = await _cached(clean_db)
    await _touch_an_account(clean_db, 2)
    assert gallery_cache.fresh(raw) is None


async def test_during_a_sync_a_noticed_change_is_rebuilt_in_the_background(
    clean_db: Database,
) -> None:
    """While a sync runs here, the periodic check's change keeps the old body answering until
    its one rebuild is done; without a sync the next response waits for the new body."""
    cache = GalleryCache(check_interval_s=0)  # every get checks
    assert (await cache.get(clean_db, "gallery", SlowBuild(b"old"))).body == b"old"
    with drops_deferred():
        await _touch_an_account(clean_db, 3)  # the sync's commit
        rebuild = SlowBuild(b"new")
        assert (await cache.get(clean_db, "gallery", rebuild)).body == b"old"  # no wait
        await asyncio.sleep(0)
        assert rebuild.calls == 1  # started in the background
        await asyncio.sleep(0.1)
        assert (await cache.get(clean_db, "gallery", rebuild)).body == b"new"
        assert rebuild.calls == 1
    await _touch_an_account(clean_db, 4)  # no sync running: strict
    assert (await cache.get(clean_db, "gallery", SlowBuild(b"newer"))).body == b"newer"
