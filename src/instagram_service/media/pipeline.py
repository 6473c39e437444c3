"""The sync engine's media seam: download each image once, make variants, record results.

A post's own image (a video's cover) and each carousel child are one "target" each. A
failure is recorded on its row and on the post (`sync_error`, `sync_retry_count`) and never
fails the sync; the previous files stay in place.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database, utcnow
from instagram_service.errors import ServiceError
from instagram_service.instagram.client import InstagramClient
from instagram_service.instagram.errors import InstagramError
from instagram_service.media.downloader import SafeDownloader, fetch_with_refresh
from instagram_service.media.imaging import ImageOptions
from instagram_service.media.processor import ImageProcessor
from instagram_service.media.storage import (
    LocalStorage,
    Storage,
    StoredImage,
    content_key,
    store_processed,
)
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia
from instagram_service.observability import IMAGES_PROCESSED, get_logger
from instagram_service.settings import Settings
from instagram_service.sync.seams import MediaOutcome

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


@dataclass
class TargetResult:
    target: Target
    stored: StoredImage | None = None
    unchanged: bool = False
    video_key: str | None = None
    error: str | None = None


def image_url(row: InstagramPost | PostMedia) -> str | None:
    """The still image to keep: a video's cover, else the media itself."""
    return row.thumbnail_url if row.media_type == "VIDEO" else row.media_url


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
        self.storage = storage or LocalStorage(
            settings.media_root, accel_prefix=settings.media_accel_redirect_prefix
        )
        self.processor = processor or ImageProcessor.from_settings(settings)
        self.downloader = downloader or SafeDownloader(settings)
        self.options = ImageOptions.from_settings(settings)

    async def aclose(self) -> None:
        await self.downloader.aclose()
        await self.processor.close()

    async def process_posts(
        self, account: InstagramAccount, token: str, post_ids: Sequence[int]
    ) -> MediaOutcome:
        targets = await self._targets(post_ids)
        results = await asyncio.gather(*(self._one(t, token) for t in targets))
        return await self._record(post_ids, results)

    async def _targets(self, post_ids: Sequence[int]) -> list[Target]:
        async with self.db.session() as session:
            posts = await session.scalars(
                select(InstagramPost)
                .where(InstagramPost.id.in_(post_ids))
                .options(selectinload(InstagramPost.children))
            )
            targets: list[Target] = []
            for post in posts:
                rows: list[tuple[InstagramPost | PostMedia, int | None]] = [(post, None)]
                rows += [(child, child.id) for child in post.children]
                for row, child_id in rows:
                    url = image_url(row)
                    video = row.media_url if row.media_type == "VIDEO" else None
                    if url and row.media_status != MediaStatus.READY:
                        targets.append(
                            Target(
                                post.id,
                                child_id,
                                row.instagram_id,
                                post.instagram_id,
                                url,
                                row.content_hash,
                                video if self.settings.download_videos else None,
                            )
                        )
            return targets

    async def _one(self, target: Target, token: str) -> TargetResult:
        async def refresh() -> str | None:
            """A fresh link for an expired one: the media itself, or its album's children."""
            try:
                if target.child_id is None:
                    return (await self.client.get_media(token, target.instagram_id)).image_url
                children = await self.client.get_children(token, target.parent_instagram_id)
            except InstagramError as exc:
                log.warning("could not refresh an expired link", error=str(exc))
                return None
            return next((c.image_url for c in children if c.id == target.instagram_id), None)

        try:
            download = await fetch_with_refresh(self.downloader, target.url, refresh)
            video_key = await self._video(target)
            if hashlib.sha256(download.data).hexdigest() == target.content_hash:
                # Same picture: nothing to redo.
                return TargetResult(target, unchanged=True, video_key=video_key)
            processed = await self.processor.process(download.data, self.options)
            stored = await store_processed(self.storage, target.instagram_id, processed)
            IMAGES_PROCESSED.labels("stored").inc()
            return TargetResult(target, stored=stored, video_key=video_key)
        except ServiceError as exc:
            IMAGES_PROCESSED.labels("failed").inc()
            return TargetResult(target, error=exc.message)
        except Exception as exc:  # a broken image must never fail the whole sync
            IMAGES_PROCESSED.labels("failed").inc()
            log.exception("image processing crashed", instagram_id=target.instagram_id)
            return TargetResult(target, error=f"{type(exc).__name__}: {exc}")

    async def _video(self, target: Target) -> str | None:
        """The video file itself (off by default; its own size cap)."""
        if target.video_url is None:
            return None
        video = await self.downloader.fetch(target.video_url, kind="video")
        key = content_key("videos", target.instagram_id, video.data, "mp4")
        await self.storage.save(key, video.data)
        return key

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
            for post in posts:
                children = {child.id: child for child in post.children}
                errors = []
                for result in by_post[post.id]:
                    child_id = result.target.child_id
                    row = post if child_id is None else children.get(child_id)
                    if row is None:
                        continue
                    if result.error is not None:
                        row.media_status = MediaStatus.FAILED
                        row.media_error = result.error
                        errors.append(result.error)
                        continue
                    outcome.images_done += 1
                    if result.stored is not None:
                        apply_stored(row, result.stored)
                    elif row.media_status != MediaStatus.READY:
                        row.media_status = MediaStatus.READY
                        row.media_error = None
                    if result.video_key is not None:
                        video = {"key": result.video_key, "format": "mp4"}
                        row.variants = {**(row.variants or {}), "video": video}
                if errors:
                    post.sync_error = "; ".join(errors)[:2000]
                    post.sync_retry_count += 1
                    outcome.failed_post_ids.append(post.id)
                elif post.sync_error is not None:
                    post.sync_error = None
        return outcome
