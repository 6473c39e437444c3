"""A post's images over its life: album covers, re-downloads that fail, files that go missing,
posts that come back after the retention cleanup, videos, replaced files.

Real SQLite (or IGS_TEST_DATABASE_URL) and real HTTP to the emulator's Graph API and CDN.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from instagram_service.app import create_app
from instagram_service.db import Database, utcnow
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.instagram.schemas import IGMedia
from instagram_service.media.cleanup import cleanup_deleted_media
from instagram_service.media.storage import content_key
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, SyncStatus
from instagram_service.posts.schemas import image_out
from instagram_service.posts.service import gallery
from instagram_service.posts.visibility import is_public
from instagram_service.sync import ports
from instagram_service.sync.ports import DefaultModerator, MediaPort, NoMedia
from instagram_service.sync.upsert import upsert_post
from tests.support.emulated import Env, emulated_env
from tests.support.factories import make_account
from tests.support.fixtures import SHARED_FIXTURES

IMAGE = "18000050000008"  # a plain image post
ALBUM = "18000050000006"  # IMAGE, VIDEO, IMAGE, VIDEO; made VIDEO, VIDEO, IMAGE, VIDEO below
VIDEO_FIRST = ALBUM
ALL_VIDEO = "18000050000005"  # made an album of videos only: its cover is the first one's
ALBUMS = (VIDEO_FIRST, ALL_VIDEO)
HASHTAG_TOP = SHARED_FIXTURES / "instagram-api/python-facebook/hashtag/top_media_p1.json"


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 8, seed=5)) as handle:
        yield handle


@pytest.fixture
def video_first() -> Iterator[EmulatorHandle]:
    """The same account, with albums whose first children are videos."""
    scenario = generate_scenario(1, 8, seed=5)
    media = {m.id: m for m in scenario.accounts[0].media}
    assert media[VIDEO_FIRST].media_type == media[ALL_VIDEO].media_type == "CAROUSEL_ALBUM"
    media[VIDEO_FIRST].children[0].media_type = "VIDEO"
    media[VIDEO_FIRST].children[1].media_type = "VIDEO"
    media[VIDEO_FIRST].children[2].media_type = "IMAGE"
    for child in media[ALL_VIDEO].children:
        child.media_type = "VIDEO"
    with running_emulator(scenario) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with emulated_env(
        clean_db, tmp_path, emulator=emulator, media=True, image_workers=1, embedded_scheduler=False
    ) as e:
        yield e


@pytest.fixture
async def albums_env(
    video_first: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> AsyncIterator[Env]:
    async with emulated_env(
        clean_db, tmp_path, emulator=video_first, media=True, image_workers=1
    ) as e:
        yield e


async def _post(env: Env, instagram_id: str) -> InstagramPost:
    async with env.db.session() as session:
        post = await session.scalar(
            select(InstagramPost)
            .where(InstagramPost.instagram_id == instagram_id)
            .options(selectinload(InstagramPost.children))
        )
        assert post is not None
        return post


async def _gallery_ids(env: Env) -> set[str]:
    async with env.db.session() as session:
        rows, _ = await gallery(session, limit=100)
        return {post.instagram_id for post in rows}


def _files(env: Env, row: object) -> set[Path]:
    root = env.container.settings.media_root
    return {root / str(v["key"]) for v in getattr(row, "variants", {}).values()}


async def _synced(env: Env) -> InstagramAccount:
    account = await env.connect()
    job = await env.sync(account.id)
    assert job.status == SyncStatus.COMPLETED, job.error_message
    assert job.posts_failed == 0
    return account


async def _new_link(env: Env, instagram_id: str) -> None:
    """As if Instagram had listed another picture before: the next sync sees a new path."""
    post = await _post(env, instagram_id)
    assert post.media_url
    async with env.db.session() as session:
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == post.id)
            .values(media_url=post.media_url.replace("_n.jpg", "_old.jpg"))
        )


async def _with_media(env: Env, seam: MediaPort, account_id: int) -> None:
    pipeline = env.container.get(ports.MEDIA)
    env.container.plug(ports.MEDIA, seam)
    try:
        job = await env.sync(account_id)
        assert job.status == SyncStatus.COMPLETED, job.error_message
    finally:
        env.container.plug(ports.MEDIA, pipeline)


# --- 1. albums: the own image is an image child's ------------------------------------------


async def test_album_image_comes_from_its_first_image_child(albums_env: Env) -> None:
    env = albums_env
    await _synced(env)
    album = await _post(env, VIDEO_FIRST)
    assert album.media_url
    assert album.media_url.split("?")[0].endswith(".mp4")
    assert album.media_status == MediaStatus.READY, album.media_error
    assert album.variants["original"]["format"] == "jpeg"
    first_image = album.children[2]
    assert first_image.media_type == "IMAGE"
    assert album.content_hash == first_image.content_hash  # the very same picture
    covers = await _post(env, ALL_VIDEO)
    assert covers.media_status == MediaStatus.READY, covers.media_error
    assert covers.content_hash == covers.children[0].content_hash  # the first video's cover
    assert set(ALBUMS) <= await _gallery_ids(env)
    assert all(f.is_file() for f in _files(env, album) | _files(env, covers))


async def test_album_without_media_url_gets_its_image(albums_env: Env) -> None:
    env = albums_env
    account = await env.connect()
    await _with_media(env, NoMedia(), account.id)
    album = await _post(env, VIDEO_FIRST)
    async with env.db.session() as session:
        await session.execute(
            update(InstagramPost).where(InstagramPost.id == album.id).values(media_url=None)
        )
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
    outcome = await env.container.get(ports.MEDIA).process_posts(stored, env.token(), [album.id])
    assert outcome.failed_post_ids == []
    album = await _post(env, VIDEO_FIRST)
    assert album.media_status == MediaStatus.READY
    assert album.content_hash == album.children[2].content_hash


def _hashtag_album() -> dict[str, object]:
    if not HASHTAG_TOP.is_file():
        pytest.skip(f"fixture not found at {HASHTAG_TOP}")
    data = json.loads(HASHTAG_TOP.read_text())["data"]
    album: dict[str, object] = next(m for m in data if m["media_type"] == "CAROUSEL_ALBUM")
    assert album.get("media_url") is None  # real data: an album without media_url
    return album


async def test_real_album_without_media_url_is_stored_from_a_child(clean_db: Database) -> None:
    from instagram_service.models.media_sources import own_image_url

    raw = _hashtag_album()
    only_videos = IGMedia.model_validate(raw)
    assert own_image_url(only_videos, only_videos.children) is None  # no cover: no image
    children = raw["children"]
    assert isinstance(children, dict)
    children["data"][1]["thumbnail_url"] = "https://scontent.xx.fbcdn.net/v/t51/cover_n.jpg"
    children["data"][2] = {**children["data"][2], "media_type": "IMAGE"}
    children["data"][2]["media_url"] = "https://scontent.xx.fbcdn.net/v/t51/still_n.jpg"
    media = IGMedia.model_validate(raw)
    assert own_image_url(media, media.children) == children["data"][2]["media_url"]
    async with clean_db.session() as session:
        account = await make_account(session)
        _, post = upsert_post(session, account, media, None, DefaultModerator())
        assert post.media_status == MediaStatus.PENDING
        assert [c.media_status for c in post.children] == [
            MediaStatus.NONE,
            MediaStatus.PENDING,
            MediaStatus.PENDING,
            MediaStatus.NONE,
        ]


# --- 2. a failed re-download keeps the previous files shown --------------------------------


async def test_failed_redownload_keeps_the_previous_files_public(env: Env) -> None:
    account = await _synced(env)
    before = await _post(env, IMAGE)
    files = _files(env, before)
    assert IMAGE in await _gallery_ids(env)

    # A new link waits for the pipeline: the post stays public with its old variants.
    await _new_link(env, IMAGE)
    await _with_media(env, NoMedia(), account.id)
    waiting = await _post(env, IMAGE)
    assert waiting.media_status == MediaStatus.PENDING
    assert IMAGE in await _gallery_ids(env)
    assert is_public(waiting)

    # The re-download fails: files and variants stay, the error is recorded.
    env.emulator.state.set_faults(truncate_images=True)
    job = await env.sync(account.id)
    env.emulator.state.reset_faults()
    assert job.posts_failed == 1
    failed = await _post(env, IMAGE)
    assert failed.sync_error
    assert failed.media_error
    assert failed.sync_retry_count == 1
    assert failed.variants == before.variants
    assert all(f.is_file() for f in files)
    assert IMAGE in await _gallery_ids(env)
    assert is_public(failed)
    shown = image_out(failed, failed.id, None)
    assert shown is not None
    assert shown.urls["optimized"].endswith(f"?v={before.content_hash[:12]}")  # type: ignore[index]

    # The next sync retries and succeeds.
    retry = await env.sync(account.id)
    assert retry.posts_failed == 0
    done = await _post(env, IMAGE)
    assert done.media_status == MediaStatus.READY
    assert done.sync_error is None
    assert done.media_error is None


# --- 3 and 4. retention cleanup ------------------------------------------------------------


async def _expire(env: Env, *instagram_ids: str) -> None:
    async with env.db.session() as session:
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.instagram_id.in_(instagram_ids))
            .values(deleted_at=utcnow() - timedelta(days=31))
        )


async def test_post_listed_again_after_the_cleanup_is_downloaded_again(env: Env) -> None:
    account = await _synced(env)
    await _expire(env, IMAGE, ALBUM)
    assert await cleanup_deleted_media(env.db, env.container.settings) > 0
    for instagram_id in (IMAGE, ALBUM):
        gone = await _post(env, instagram_id)
        assert gone.media_status == MediaStatus.NONE
        assert gone.content_hash is None
        assert all(c.content_hash is None for c in gone.children)
    job = await env.sync(account.id)  # Instagram still lists both: they are back
    assert job.posts_failed == 0
    for instagram_id in (IMAGE, ALBUM):
        back = await _post(env, instagram_id)
        assert back.deleted_at is None
        assert back.media_status == MediaStatus.READY
        assert back.variants
        assert all(f.is_file() for f in _files(env, back))
        for child in back.children:
            if child.media_type == "IMAGE":
                assert child.media_status == MediaStatus.READY
                assert all(f.is_file() for f in _files(env, child))
    assert {IMAGE, ALBUM} <= await _gallery_ids(env)


async def test_cleanup_reaches_the_children_of_an_album_without_own_image(env: Env) -> None:
    await _synced(env)
    album = await _post(env, ALBUM)
    own, children = _files(env, album), set().union(*(_files(env, c) for c in album.children))
    assert children
    async with env.db.session() as session:  # an album with no still of its own
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == album.id)
            .values(media_status=MediaStatus.NONE, variants={})
        )
    await _expire(env, ALBUM)
    assert await cleanup_deleted_media(env.db, env.container.settings) == len(children)
    assert not any(f.exists() for f in children)
    assert all(f.exists() for f in own)  # no row named them any more: not ours to judge
    cleaned = await _post(env, ALBUM)
    assert all(c.media_status == MediaStatus.NONE and not c.variants for c in cleaned.children)
    assert await cleanup_deleted_media(env.db, env.container.settings) == 0


# --- 5. videos -----------------------------------------------------------------------------


async def test_a_video_failure_never_fails_the_image(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    async with emulated_env(
        clean_db,
        tmp_path,
        emulator=emulator,
        media=True,
        image_workers=1,
        download_videos=True,
        video_max_bytes=16,  # every video is over the cap
    ) as env:
        account = await env.connect()
        job = await env.sync(account.id)
        assert job.posts_failed == 0
        async with env.db.session() as session:
            videos = list(
                await session.scalars(
                    select(InstagramPost).where(
                        InstagramPost.media_type == "VIDEO", InstagramPost.media_url.is_not(None)
                    )
                )
            )
        assert videos
        public = await _gallery_ids(env)
        for post in videos:
            assert post.media_status == MediaStatus.READY
            assert "video" not in post.variants
            assert {"original", "thumbnail"} <= set(post.variants)
            assert post.media_error
            assert post.media_error.startswith("video: ")
            assert post.sync_error == post.media_error
            assert post.instagram_id in public


async def test_expired_video_links_are_refreshed(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    async with emulated_env(
        clean_db, tmp_path, emulator=emulator, media=True, image_workers=1, download_videos=True
    ) as env:
        account = await env.connect()
        await _with_media(env, NoMedia(), account.id)
        state = env.emulator.state
        state.advance_clock(state.scenario.link_lifetime_s * 3)  # every stored link expired
        async with env.db.session() as session:
            stored = await session.get(InstagramAccount, account.id)
            assert stored is not None
            ids = list(await session.scalars(select(InstagramPost.id)))
        outcome = await env.container.get(ports.MEDIA).process_posts(stored, env.token(), ids)
        assert outcome.failed_post_ids == []
        album = await _post(env, ALBUM)
        assert album.media_status == MediaStatus.READY
        assert album.media_error is None
        for child in album.children:
            assert child.media_status == MediaStatus.READY
            if child.media_type == "VIDEO":
                assert child.media_error is None
                assert "video" in child.variants


async def test_an_account_can_opt_out_of_video_downloads(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    async with emulated_env(
        clean_db, tmp_path, emulator=emulator, media=True, image_workers=1, download_videos=True
    ) as env:
        account = await env.connect()
        async with env.db.session() as session:
            stored = await session.get(InstagramAccount, account.id)
            assert stored is not None
            assert stored.download_videos is True  # on unless the account opts out
            stored.download_videos = False
        job = await env.sync(account.id)
        assert job.posts_failed == 0
        async with env.db.session() as session:
            videos = list(
                await session.scalars(
                    select(InstagramPost).where(
                        InstagramPost.media_type == "VIDEO", InstagramPost.media_url.is_not(None)
                    )
                )
            )
        assert videos
        for post in videos:
            assert post.media_status == MediaStatus.READY  # the cover is there
            assert "video" not in post.variants


# --- 6. replaced files ---------------------------------------------------------------------


async def test_replaced_files_are_removed_after_the_commit(env: Env) -> None:
    account = await _synced(env)
    old = await _post(env, IMAGE)
    other = await _post(env, "18000050000001")
    old_files = _files(env, old)
    kept_key = str(old.variants["thumbnail"]["key"])
    async with env.db.session() as session:  # another row still names one old file
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == other.id)
            .values(thumbnail_path=kept_key)
        )
    env.emulator.state.edit_media(IMAGE, width=640, height=800)  # a new picture
    await _new_link(env, IMAGE)
    job = await env.sync(account.id)
    assert job.posts_failed == 0
    new = await _post(env, IMAGE)
    assert new.media_status == MediaStatus.READY
    assert new.content_hash != old.content_hash
    new_files = _files(env, new)
    assert all(f.is_file() for f in new_files)
    root = env.container.settings.media_root
    assert (root / kept_key).is_file()
    assert not any(f.exists() for f in old_files - new_files - {root / kept_key})


# --- 7. files missing from storage ---------------------------------------------------------


async def test_a_missing_file_is_downloaded_again(env: Env) -> None:
    account = await _synced(env)
    post = await _post(env, IMAGE)
    optimized = env.container.settings.media_root / str(post.variants["optimized"]["key"])
    optimized.unlink()
    app = create_app(env.container.settings, database=env.db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            missing = await http.get(f"/images/{post.id}/optimized")
            assert missing.status_code == 404
            marked = await _post(env, IMAGE)
            assert marked.media_status == MediaStatus.PENDING
            assert IMAGE in await _gallery_ids(env)  # the other files are still there
            thumbnail = await http.get(f"/images/{post.id}/thumbnail")
            assert thumbnail.status_code == 200
    job = await env.sync(account.id)
    assert job.posts_failed == 0
    again = await _post(env, IMAGE)
    assert again.media_status == MediaStatus.READY
    assert optimized.is_file()


async def test_a_replaced_profile_picture_is_removed_after_the_commit(env: Env) -> None:
    """The account's avatar was another picture: the full sync stores the new one, names it,
    and removes the old file once that is committed."""
    account = await _synced(env)
    root = env.container.settings.media_root
    async with env.db.session() as session:
        row = await session.get(InstagramAccount, account.id)
        assert row is not None
        assert row.avatar_key
        current = row.avatar_key
        old = content_key("avatars", row.instagram_user_id, b"an older picture", "webp")
        (root / old).write_bytes(b"an older picture")
        row.avatar_key = old
    job = await env.sync(account.id)
    assert job.status == SyncStatus.COMPLETED, job.error_message
    async with env.db.session() as session:
        row = await session.get(InstagramAccount, account.id)
        assert row is not None
        assert row.avatar_key == current
    assert (root / current).is_file()
    assert not (root / old).exists()
