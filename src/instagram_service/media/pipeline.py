"""The media port the sync plugs in: download each image once, make variants, record results.

A post's own image (a video's cover, an album's first image child) and each carousel child
are one "target" each. A failure is recorded on its row and on the post (`sync_error`,
`sync_retry_count`) and never fails the sync; the previous files stay in place and stay
shown (the row stays PENDING and is retried; without previous files it is FAILED). A video
failure (with `IGS_DOWNLOAD_VIDEOS`) is recorded but never fails the image. Files a new
version replaced are removed once the new keys are committed, unless a row still names them.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database, after_commit, utcnow
from instagram_service.errors import ServiceError
from instagram_service.instagram.client import InstagramClient
from instagram_service.instagram.errors import InstagramError
from instagram_service.instagram.schemas import IGChild
from instagram_service.media.avatars import store_avatar
from instagram_service.media.downloader import SafeDownloader, fetch_with_refresh
from instagram_service.media.imaging import ImageOptions
from instagram_service.media.processor import ImageProcessor
from instagram_service.media.storage import (
    Storage,
    StoredImage,
    content_key,
    remove_files,
    store_processed,
    variant_keys,
)
from instagram_service.media.stores import media_storage
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia
from instagram_service.models.media_sources import album_image_url, own_image_url, still_url
from instagram_service.observability import IMAGES_PROCESSED, get_logger
from instagram_service.settings import Settings
from instagram_service.sync.ports import MediaOutcome

log = get_logger(__name__)


@dataclass(frozen=True)
class Target:
    post_id: int
    child_id: int | None  # None: the post's own image
    instagram_id: str
    parent_instagram_id: str
    url: str
    content_hash: str | None
    video_url: str | None = None  # only when IGS_DOWNLOAD_VIDEOS is on
    image_keys: tuple[str, ...] = ()  # the image files the row names now
    album: bool = False  # an album's own image: taken from one of its children


@dataclass
class TargetResult:
    target: Target
    stored: StoredImage | None = None
    unchanged: bool = False
    video_key: str | None = None
    error: str | None = None
    video_error: str | None = None


def image_url(row: InstagramPost | PostMedia) -> str | None:
    """The still image to keep: a video's cover, an album's first image child, else the
    media itself."""
    if isinstance(row, InstagramPost):
        return own_image_url(row, row.children)
    return still_url(row)


def _media_id(key: str) -> str:
    """`thumbnails/<media_id>_<hash12>.webp` -> `<media_id>`."""
    return key.rsplit("/", 1)[-1].rsplit("_", 1)[0]


def variants_json(stored: StoredImage) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {
        "original": {
            "key": stored.original_key,
            "width": stored.width,
            "height": stored.height,
            "format": stored.original_format,
        }
    }
    for v in stored.variants:
        name = v.name if v.format == "webp" else f"{v.name}.{v.format}"
        out[name] = {"key": v.key, "width": v.width, "height": v.height, "format": v.format}
    return out


def apply_stored(row: InstagramPost | PostMedia, stored: StoredImage) -> None:
    row.variants = variants_json(stored)
    row.local_image_path = stored.original_key
    row.thumbnail_path = stored.key_for("thumbnail")
    row.optimized_path = stored.key_for("optimized")
    row.large_path = stored.key_for("large")
    row.image_width = stored.width
    row.image_height = stored.height
    row.blurhash = stored.blurhash
    row.dominant_color = stored.dominant_color
    row.content_hash = stored.content_hash
    row.media_status = MediaStatus.READY
    row.media_error = None
    row.media_synced_at = utcnow()


class MediaPipeline:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        client: InstagramClient,
        *,
        storage: Storage | None = None,
        processor: ImageProcessor | None = None,
        downloader: SafeDownloader | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.client = client
        self.storage = storage or media_storage(settings)
        self.processor = processor or ImageProcessor.from_settings(settings)
        self.downloader = downloader or SafeDownloader(settings)
        self.options = ImageOptions.from_settings(settings)
        # Images held in memory at once (downloaded, not yet stored): enough to keep every
        # download slot and every encoder slot busy, and no more, whatever the page holds.
        self._in_flight = asyncio.Semaphore(
            settings.download_concurrency + 2 * settings.image_workers
        )

    async def store_avatar(self, account: InstagramAccount) -> None:
        await store_avatar(self.downloader, self.storage, account)

    async def start(self) -> None:
        await self.processor.start()

    async def aclose(self) -> None:
        await self.downloader.aclose()
        await self.processor.close()

    async def process_posts(
        self, account: InstagramAccount, token: str, post_ids: Sequence[int]
    ) -> MediaOutcome:
        targets = await self._targets(post_ids)
        results = await asyncio.gather(*(self._bounded(t, token) for t in targets))
        return await self._record(post_ids, results)

    async def _bounded(self, target: Target, token: str) -> TargetResult:
        async with self._in_flight:
            return await self._one(target, token)

    async def _targets(self, post_ids: Sequence[int]) -> list[Target]:
        async with self.db.session() as session:
            posts = await session.scalars(
                select(InstagramPost)
                .where(InstagramPost.id.in_(post_ids))
                .options(selectinload(InstagramPost.children), selectinload(InstagramPost.account))
            )
            targets: list[Target] = []
            for post in posts:
                rows: list[tuple[InstagramPost | PostMedia, int | None]] = [(post, None)]
                rows += [(child, child.id) for child in post.children]
                for row, child_id in rows:
                    url = image_url(row)
                    video = row.media_url if row.media_type == "VIDEO" else None
                    if url and row.media_status != MediaStatus.READY:
                        images = {k: v for k, v in (row.variants or {}).items() if k != "video"}
                        targets.append(
                            Target(
                                post.id,
                                child_id,
                                row.instagram_id,
                                post.instagram_id,
                                url,
                                row.content_hash,
                                video
                                if self.settings.download_videos and post.account.download_videos
                                else None,
                                image_keys=tuple(sorted(variant_keys(images))),
                                album=child_id is None and post.media_type == "CAROUSEL_ALBUM",
                            )
                        )
            return targets

    def _videos(self, post: InstagramPost) -> bool:
        """Video files too: on in the settings, and the account did not opt out."""
        return self.settings.download_videos and post.account.download_videos

    def _refresher(
        self, target: Target, token: str, *, video: bool = False
    ) -> Callable[[], Awaitable[str | None]]:
        """A fresh link for an expired one: from the media itself, or its album's children."""

        async def refresh() -> str | None:
            try:
                if target.child_id is None and not target.album:
                    media = await self.client.get_media(token, target.instagram_id)
                    return media.media_url if video else media.image_url
                children = await self.client.get_children(token, target.parent_instagram_id)
            except InstagramError as exc:
                log.warning("could not refresh an expired link", error=str(exc))
                return None
            if target.album:
                return album_image_url(children)
            child: IGChild | None = next((c for c in children if c.id == target.instagram_id), None)
            if child is None:
                return None
            return child.media_url if video else child.image_url

        return refresh

    async def _one(self, target: Target, token: str) -> TargetResult:
        try:
            refresh = self._refresher(target, token)
            download = await fetch_with_refresh(self.downloader, target.url, refresh)
            if hashlib.sha256(download.data).hexdigest() == target.content_hash and (
                await self._all_stored(target.image_keys)
            ):
                result = TargetResult(target, unchanged=True)  # same picture, files in place
            else:
                processed = await self.processor.process(download.data, self.options)
                stored = await store_processed(self.storage, target.instagram_id, processed)
                IMAGES_PROCESSED.labels("stored").inc()
                result = TargetResult(target, stored=stored)
        except ServiceError as exc:
            IMAGES_PROCESSED.labels("failed").inc()
            return TargetResult(target, error=exc.message)
        except Exception as exc:  # a broken image must never fail the whole sync
            IMAGES_PROCESSED.labels("failed").inc()
            log.exception("image processing crashed", instagram_id=target.instagram_id)
            return TargetResult(target, error=f"{type(exc).__name__}: {exc}")
        try:  # the image is in: a video failure is recorded, never fails it
            result.video_key = await self._video(target, token)
        except ServiceError as exc:
            result.video_error = exc.message
        except Exception as exc:
            log.exception("video download crashed", instagram_id=target.instagram_id)
            result.video_error = f"{type(exc).__name__}: {exc}"
        return result

    async def _all_stored(self, keys: Sequence[str]) -> bool:
        """Whether every file the row names is still in storage (else: process again)."""
        if not keys:
            return False
        return all(await asyncio.gather(*(self.storage.exists(key) for key in keys)))

    async def _video(self, target: Target, token: str) -> str | None:
        """The video file itself (off by default; its own size cap)."""
        if target.video_url is None:
            return None
        refresh = self._refresher(target, token, video=True)
        video = await fetch_with_refresh(self.downloader, target.video_url, refresh, kind="video")
        key = content_key("videos", target.instagram_id, video.data, "mp4")
        await self.storage.save(key, video.data)
        return key

    async def _remove_unreferenced(self, keys: Iterable[str]) -> None:
        """After the commit: delete replaced files that no row names any more."""
        candidates = set(keys)
        try:
            media_ids = sorted({_media_id(key) for key in candidates})
            async with self.db.session() as session:
                for model in (InstagramPost, PostMedia):
                    # Keys start with their media id: rows of that media name them in
                    # `variants`; any other row can only through its path columns.
                    rows = await session.scalars(
                        select(model.variants).where(model.instagram_id.in_(media_ids))
                    )
                    for variants in rows:
                        candidates -= variant_keys(variants)
                    columns = (
                        model.local_image_path,
                        model.thumbnail_path,
                        model.optimized_path,
                        model.large_path,
                    )
                    named = await session.execute(
                        select(*columns).where(or_(*(c.in_(sorted(candidates)) for c in columns)))
                    )
                    for row in named:
                        candidates -= set(row)
            removed = await remove_files(self.storage, sorted(candidates))
            log.info("replaced media files removed", files=removed)
        except Exception:  # the new files are committed: a leftover file is harmless
            log.exception("could not remove replaced media files")

    async def _record(self, post_ids: Sequence[int], results: list[TargetResult]) -> MediaOutcome:
        outcome = MediaOutcome()
        by_post: dict[int, list[TargetResult]] = {}
        for result in results:
            by_post.setdefault(result.target.post_id, []).append(result)
        async with self.db.session() as session:
            posts = await session.scalars(
                select(InstagramPost)
                .where(InstagramPost.id.in_(list(by_post)))
                .options(selectinload(InstagramPost.children))
            )
            replaced: set[str] = set()
            for post in posts:
                children = {child.id: child for child in post.children}
                errors: list[str] = []
                notes: list[str] = []
                for result in by_post[post.id]:
                    child_id = result.target.child_id
                    row = post if child_id is None else children.get(child_id)
                    if row is None:
                        continue
                    if result.error is not None:
                        # Previous files stay, and stay shown while it is retried.
                        has_files = row.local_image_path is not None
                        row.media_status = MediaStatus.PENDING if has_files else MediaStatus.FAILED
                        row.media_error = result.error
                        errors.append(result.error)
                        continue
                    outcome.images_done += 1
                    before = variant_keys(row.variants)
                    old_video = (row.variants or {}).get("video")
                    if result.stored is not None:
                        apply_stored(row, result.stored)
                        if old_video and result.video_key is None:
                            row.variants = {**row.variants, "video": old_video}
                    elif row.media_status != MediaStatus.READY or row.media_error:
                        row.media_status = MediaStatus.READY
                        row.media_error = None
                    if result.video_key is not None:
                        video = {"key": result.video_key, "format": "mp4"}
                        row.variants = {**(row.variants or {}), "video": video}
                    if result.video_error is not None:
                        row.media_error = f"video: {result.video_error}"
                        notes.append(row.media_error)
                    replaced |= before - variant_keys(row.variants)
                if errors:
                    post.sync_retry_count += 1
                    outcome.failed_post_ids.append(post.id)
                sync_error = "; ".join(errors + notes)[:2000] or None
                if post.sync_error != sync_error:
                    post.sync_error = sync_error
            if replaced:
                after_commit(session, lambda: self._remove_unreferenced(replaced))
        return outcome
