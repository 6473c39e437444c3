"""Media in an S3 bucket end to end: moto in server mode on loopback, the emulator's Graph API
and CDN over real HTTP, the real pipeline, routes and account deletion."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database, utcnow
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.media.cleanup import cleanup_deleted_media
from instagram_service.media.orphans import referenced_keys, sweep_orphans
from instagram_service.media.s3_storage import S3Storage
from instagram_service.media.storage import Storage, StorageUnavailable, media_storage
from instagram_service.models import InstagramPost, MediaStatus, SyncStatus
from instagram_service.posts.cache import gallery_cache
from instagram_service.posts.visibility import is_public
from instagram_service.settings import Settings
from instagram_service.sync import ports
from tests.emulated import Env, emulated_runtime
from tests.media.s3_server import allow_public_reads, free_port, moto_server

S3_FIELDS = (
    "storage",
    "s3_bucket",
    "s3_endpoint_url",
    "s3_region",
    "s3_prefix",
    "s3_access_key_id",
    "s3_secret_access_key",
)
IMAGE = "18000050000008"  # a plain image post of generate_scenario(1, 8, seed=5)
OTHER = "18000050000001"


def s3_overrides(s3_settings: Settings, **more: Any) -> dict[str, Any]:
    return {name: getattr(s3_settings, name) for name in S3_FIELDS} | more


async def bucket_keys(storage: Storage) -> set[str]:
    return {obj.key async for obj in storage.list_objects()}


def media_files(settings: Settings) -> list[Path]:
    root = settings.media_root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def demo_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator("demo") as handle:
        yield handle


@pytest.fixture
def small_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 8, seed=5)) as handle:
        yield handle


@pytest.fixture
async def demo_env(
    demo_emulator: EmulatorHandle, clean_db: Database, tmp_path: Path, s3_settings: Settings
) -> AsyncIterator[Env]:
    overrides = s3_overrides(s3_settings, embedded_scheduler=False)
    async with emulated_runtime(demo_emulator, clean_db, tmp_path, media=True, **overrides) as e:
        yield e


@pytest.fixture
async def small_env(
    small_emulator: EmulatorHandle, clean_db: Database, tmp_path: Path, s3_settings: Settings
) -> AsyncIterator[Env]:
    overrides = s3_overrides(s3_settings, embedded_scheduler=False, image_workers=1)
    async with emulated_runtime(small_emulator, clean_db, tmp_path, media=True, **overrides) as e:
        yield e


async def _sync_all(env: Env) -> list[int]:
    ids = []
    for index in range(len(env.emulator.state.scenario.accounts)):
        account = await env.connect(index)
        job = await env.sync(account.id)
        assert job.status == SyncStatus.COMPLETED, job.error_message
        assert job.posts_failed == 0
        ids.append(account.id)
    return ids


async def _post(env: Env, instagram_id: str) -> InstagramPost:
    async with env.db.session() as session:
        post = await session.scalar(
            select(InstagramPost).where(InstagramPost.instagram_id == instagram_id)
        )
        assert post is not None
        return post


async def _gallery(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/api/v1/gallery", params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_demo_sync_fills_the_bucket_and_the_gallery_is_served_from_it(
    demo_env: Env,
) -> None:
    settings = demo_env.container.settings
    await _sync_all(demo_env)
    storage = media_storage(settings)
    named = await referenced_keys(demo_env.db)
    assert len(named) > 150
    assert await bucket_keys(storage) == named  # every file, and nothing else
    assert media_files(settings) == []  # no shared volume needed

    app = create_app(settings, database=demo_env.db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            items = await _gallery(http)
            assert len(items) > 40
            for item in items:  # streamed from the bucket by the image routes
                url = item["image"]["urls"]["optimized"]
                response = await http.get(url)
                assert response.status_code == 200
                assert response.headers["content-type"] == "image/webp"
                assert "immutable" in response.headers["cache-control"]
                key = url.split("?")[0]
                assert response.content[:4] == b"RIFF", key
                again = await http.get(url, headers={"If-None-Match": response.headers["etag"]})
                assert again.status_code == 304
    first = items[0]["image"]["urls"]
    post = await _post(demo_env, items[0]["instagram_id"])
    assert await storage.read(str(post.variants["optimized"]["key"])) == (
        await _fetch_via_app(settings, demo_env.db, first["optimized"])
    )

    # With a public media URL (CDN or bucket) the JSON points at the objects themselves.
    public = f"{settings.s3_endpoint_url}/{settings.s3_bucket}/{settings.s3_prefix}"
    cdn = settings.model_copy(update={"media_public_url": public})
    gallery_cache.invalidate()  # process-wide; settings never change in a real process
    assert settings.s3_endpoint_url
    assert settings.s3_bucket
    allow_public_reads(settings.s3_endpoint_url, settings.s3_bucket)
    app = create_app(cdn, database=demo_env.db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            items = await _gallery(http)
    async with httpx.AsyncClient() as direct:
        for item in items[:10]:
            for name, url in item["image"]["urls"].items():
                assert url.startswith(f"{public}/"), url
                key = url.removeprefix(f"{public}/")
                assert key in named
                fetched = await direct.get(url)
                assert fetched.status_code == 200, (name, url)
                assert fetched.content == await storage.read(key)
                assert fetched.headers["content-type"].startswith("image/")
                assert "immutable" in fetched.headers["cache-control"]


async def _fetch_via_app(settings: Settings, db: Database, url: str) -> bytes:
    app = create_app(settings, database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(url)
            assert response.status_code == 200
            return response.content


async def test_failed_upload_replacement_orphans_and_account_deletion(small_env: Env) -> None:
    settings = small_env.container.settings
    storage = media_storage(settings)
    (account_id,) = await _sync_all(small_env)
    before = await _post(small_env, IMAGE)
    old_keys = {str(v["key"]) for v in before.variants.values()}
    assert old_keys <= await bucket_keys(storage)

    # A new picture whose upload fails: the previous one stays stored and public.
    small_env.emulator.state.edit_media(IMAGE, width=640, height=800)
    await _new_link(small_env, before)
    pipeline: Any = small_env.container.get(ports.MEDIA)
    dead = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    pipeline.storage = S3Storage(dead)
    job = await small_env.sync(account_id)
    pipeline.storage = storage
    assert job.posts_failed == 1
    failed = await _post(small_env, IMAGE)
    assert failed.media_status == MediaStatus.PENDING
    assert "unavailable" in (failed.media_error or "")
    assert failed.variants == before.variants
    assert is_public(failed)
    assert old_keys <= await bucket_keys(storage)

    # The retry stores the new picture; the replaced objects go after the commit.
    job = await small_env.sync(account_id)
    assert job.posts_failed == 0
    after = await _post(small_env, IMAGE)
    assert after.content_hash != before.content_hash
    new_keys = {str(v["key"]) for v in after.variants.values()}
    in_bucket = await bucket_keys(storage)
    assert new_keys <= in_bucket
    assert not (old_keys - new_keys) & in_bucket

    # The sweep finds an object no row names (past the grace period) and only that.
    await storage.save("original/99_aaaaaaaaaaaa.jpg", b"left over by a crashed sync")
    young = await sweep_orphans(small_env.db, storage)
    assert (young.orphans, young.young) == ([], 1)
    report = await sweep_orphans(small_env.db, storage, grace=timedelta(0))
    assert report.orphans == ["original/99_aaaaaaaaaaaa.jpg"]
    assert report.removed == 1
    assert await bucket_keys(storage) == await referenced_keys(small_env.db)

    # The retention cleanup deletes the objects of a long-deleted post.
    gone = await _post(small_env, OTHER)
    gone_keys = {str(v["key"]) for v in gone.variants.values()}
    async with small_env.db.session() as session:
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == gone.id)
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
    assert await cleanup_deleted_media(small_env.db, settings) == len(gone_keys)
    assert not gone_keys & await bucket_keys(storage)
    assert await bucket_keys(storage) == await referenced_keys(small_env.db)

    # Deleting the account removes its objects.
    async with small_env.db.session() as session:
        _, admin = await create_key(session, name="admin", scope="admin")
    app = create_app(settings, database=small_env.db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            deleted = await http.delete(
                f"/api/v1/accounts/{account_id}", headers={"Authorization": f"Bearer {admin}"}
            )
            assert deleted.status_code == 204
    assert await bucket_keys(storage) == set()
    assert media_files(settings) == []


async def _new_link(env: Env, post: InstagramPost) -> None:
    """As if Instagram had listed another picture before: the next sync sees a new path."""
    assert post.media_url
    async with env.db.session() as session:
        await session.execute(
            update(InstagramPost)
            .where(InstagramPost.id == post.id)
            .values(media_url=post.media_url.replace("_n.jpg", "_old.jpg"))
        )


async def test_a_missing_bucket_is_one_clear_error(s3_settings: Settings) -> None:
    missing = S3Storage(s3_settings.model_copy(update={"s3_bucket": "no-such-bucket"}))
    with pytest.raises(StorageUnavailable) as caught:
        await missing.verify()
    assert caught.value.message == (
        f"S3 bucket 'no-such-bucket' at {s3_settings.s3_endpoint_url} does not exist "
        "(IGS_S3_BUCKET, IGS_S3_ENDPOINT_URL)"
    )
    with pytest.raises(StorageUnavailable, match="does not exist"):
        await missing.save("original/1_abc.jpg", b"x")
    with pytest.raises(StorageUnavailable, match="does not exist"):  # not a missing file
        await missing.open("original/1_abc.jpg")


async def test_refused_credentials_are_one_clear_error(s3_settings: Settings) -> None:
    with moto_server(check_credentials=True) as endpoint:
        refused = S3Storage(s3_settings.model_copy(update={"s3_endpoint_url": endpoint}))
        with pytest.raises(StorageUnavailable) as caught:
            await refused.verify()
    assert caught.value.message.startswith("S3 refused the credentials for bucket")
