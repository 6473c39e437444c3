"""Syncs with the real media pipeline: files, failures that stay per post, expired links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import (
    InstagramAccount,
    InstagramPost,
    MediaStatus,
    SyncStatus,
    SyncType,
)
from instagram_service.sync import ports
from instagram_service.sync.engine import Progress
from instagram_service.sync.ports import NoMedia
from tests.emulated import Env, emulated_runtime


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 8, seed=5)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with emulated_runtime(emulator, clean_db, tmp_path, media=True, image_workers=1) as e:
        yield e


async def _posts(env: Env) -> list[InstagramPost]:
    async with env.db.session() as session:
        rows = await session.scalars(
            select(InstagramPost).options(selectinload(InstagramPost.children))
        )
        return list(rows)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_sync_stores_variants_once(env: Env) -> None:
    account = await env.connect()
    job = await env.sync(account.id)
    assert job.status == SyncStatus.COMPLETED
    assert job.posts_failed == 0
    posts = await _posts(env)
    with_image = [p for p in posts if p.media_status != MediaStatus.NONE]
    assert with_image
    for post in with_image:
        assert post.media_status == MediaStatus.READY, post.media_error
        assert {"original", "thumbnail", "optimized"} <= set(post.variants)
        assert post.variants["thumbnail"]["width"] <= 300
        assert post.blurhash
        assert post.dominant_color
        assert post.dominant_color.startswith("#")
        for child in post.children:
            if child.media_status != MediaStatus.NONE:
                assert child.media_status == MediaStatus.READY
    root = env.container.settings.media_root
    files = _files(root)
    assert any(p.parent.name == "thumbnails" for p in files)
    assert any(p.parent.name == "optimized" for p in files)
    env.emulator.state.reset_stats()
    again = await env.sync(account.id)
    assert again.status == SyncStatus.COMPLETED
    assert _files(root) == files  # nothing downloaded or written again
    assert "/cdn" not in str(env.emulator.state.stats()["calls_by_path"])


async def test_broken_images_fail_their_posts_not_the_job(env: Env) -> None:
    account = await env.connect()
    env.emulator.state.set_faults(truncate_images=True)
    job = await env.sync(account.id)
    env.emulator.state.reset_faults()
    assert job.status == SyncStatus.COMPLETED
    assert job.posts_failed > 0
    failed = [p for p in await _posts(env) if p.media_status == MediaStatus.FAILED]
    assert len(failed) == job.posts_failed
    for post in failed:
        assert post.sync_error
        assert post.sync_retry_count == 1
        assert not post.variants
    # The next sync retries them and succeeds.
    retry = await env.sync(account.id)
    assert retry.posts_failed == 0
    assert all(p.media_status != MediaStatus.FAILED for p in await _posts(env))
    assert all(p.sync_error is None for p in await _posts(env))


async def test_expired_links_are_refreshed_through_the_api(env: Env) -> None:
    account = await env.connect()
    pipeline = env.container.get(ports.MEDIA)
    env.container.plug(ports.MEDIA, NoMedia())  # store the posts with their links only
    await env.sync(account.id)
    env.container.plug(ports.MEDIA, pipeline)
    state = env.emulator.state
    state.advance_clock(state.scenario.link_lifetime_s * 3)  # every stored link has expired
    state.reset_stats()
    posts = await _posts(env)
    async with env.db.session() as session:
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
    outcome = await pipeline.process_posts(stored, env.token(), [p.id for p in posts])
    assert outcome.failed_post_ids == []
    refreshed = [path for path in state.stats()["calls_by_path"] if not path.endswith("/media")]
    assert refreshed, "no fresh media_url was asked for"
    assert all(p.media_status in (MediaStatus.READY, MediaStatus.NONE) for p in await _posts(env))


async def test_videos_are_kept_when_asked(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    async with emulated_runtime(
        emulator, clean_db, tmp_path, media=True, image_workers=1, download_videos=True
    ) as env:
        account = await env.connect()
        job = await env.sync(account.id)
        assert job.posts_failed == 0
        videos = [p for p in await _posts(env) if p.media_type == "VIDEO" and p.media_url]
        assert videos
        for post in videos:
            key = post.variants["video"]["key"]
            data = (env.container.settings.media_root / key).read_bytes()
            assert data[4:8] == b"ftyp"  # an MP4 container


async def test_files_of_long_deleted_posts_are_removed(env: Env) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from instagram_service.db import utcnow
    from instagram_service.media.cleanup import cleanup_deleted_media

    account = await env.connect()
    await env.sync(account.id)
    root = env.container.settings.media_root
    before = _files(root)
    victim, recent = [p for p in await _posts(env) if p.variants][:2]
    async with env.db.session() as session:
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == victim.id)
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == recent.id)
            .values(deleted_at=utcnow() - timedelta(days=1))
        )
    removed = await cleanup_deleted_media(env.db, env.container.settings)
    victim_keys = {
        root / v["key"] for row in [victim, *victim.children] for v in row.variants.values()
    }
    assert removed == len(victim_keys)
    assert _files(root) == before - victim_keys
    assert all((root / v["key"]).exists() for v in recent.variants.values())
    async with env.db.session() as session:
        stored = await session.get(InstagramPost, victim.id)
        assert stored is not None
        assert stored.variants == {}
        assert stored.media_status == MediaStatus.NONE
    assert await cleanup_deleted_media(env.db, env.container.settings) == 0


async def test_images_are_counted_as_they_come_in_and_link_refreshes_are_no_updates(
    env: Env,
) -> None:
    account = await env.connect()
    counts: list[int] = []
    progress = Progress(on_images=lambda p: counts.append(p.images))
    job = await env.sync(account.id, SyncType.FULL, progress)
    assert job.status == SyncStatus.COMPLETED
    assert len(counts) >= 2, counts  # 8 posts, one page: seen before the page ends
    assert counts == sorted(counts)
    assert counts[-1] == progress.images > 0
    links = {p.id: p.media_url for p in await _posts(env)}
    env.emulator.state.advance_clock(4 * 86400)  # past the link lifetime: all signed anew
    again = await env.sync(account.id, SyncType.FULL)
    assert again.status == SyncStatus.COMPLETED
    assert (again.posts_processed, again.posts_updated) == (8, 0)
    fresh = {p.id: p.media_url for p in await _posts(env)}
    changed = [post_id for post_id, url in links.items() if url and fresh[post_id] != url]
    assert changed, "the links did not change: nothing was tested"  # and they are stored
