"""Retention: the files of posts deleted longer ago than `media_retention_days` go."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database, utcnow
from instagram_service.media.storage import variant_keys
from instagram_service.media.stores import remove_media_files
from instagram_service.models import InstagramPost, MediaStatus, PostMedia
from instagram_service.settings import Settings


def _clear(row: InstagramPost | PostMedia) -> list[str]:
    keys = sorted(variant_keys(row.variants))
    row.variants = {}
    row.local_image_path = row.thumbnail_path = row.optimized_path = row.large_path = None
    # No files, no hash: were the post listed again, the same bytes must be stored anew.
    row.content_hash = None
    row.media_status = MediaStatus.NONE
    return keys


async def cleanup_deleted_media(db: Database, settings: Settings) -> int:
    """Remove the files of long-deleted posts; returns how many files went."""
    cutoff = utcnow() - timedelta(days=settings.media_retention_days)
    keys: list[str] = []
    child_left = (
        select(PostMedia.id)
        .where(PostMedia.post_id == InstagramPost.id, PostMedia.media_status != MediaStatus.NONE)
        .exists()
    )
    async with db.session() as session:
        posts = await session.scalars(
            select(InstagramPost)
            .where(
                InstagramPost.deleted_at < cutoff,
                # The post's own status says nothing of its children's files (an album
                # without an own image has NONE and READY children).
                or_(InstagramPost.media_status != MediaStatus.NONE, child_left),
            )
            .options(selectinload(InstagramPost.children))
        )
        for post in posts:
            keys += _clear(post)
            for child in post.children:
                keys += _clear(child)
    # Files go after the commit: a crash in between leaves files, never rows without them.
    return await remove_media_files(settings, keys)
