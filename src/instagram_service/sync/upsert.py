"""Upsert of one Instagram media into our rows, keyed by instagram_id.

Only changed columns are written, so an identical second sync changes no row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.db import utcnow
from instagram_service.instagram.schemas import IGChild, IGMedia
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia
from instagram_service.models.media_sources import own_image_url
from instagram_service.sync.captions import extract_hashtags, extract_mentions
from instagram_service.sync.ports import Moderator


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    REFRESHED = "refreshed"  # only re-signed CDN links: not counted as an update
    UNCHANGED = "unchanged"


URL_FIELDS = frozenset({"media_url", "thumbnail_url"})


def post_values(media: IGMedia, account: InstagramAccount) -> dict[str, Any]:
    return {
        "media_type": media.media_type or "IMAGE",
        "media_product_type": media.media_product_type,
        "media_url": media.media_url,
        "thumbnail_url": media.thumbnail_url,
        "permalink": media.permalink,
        "shortcode": media.shortcode,
        "caption": media.caption,
        "username": media.username or account.username,
        "alt_text": media.alt_text,
        "like_count": media.like_count,
        "comments_count": media.comments_count,
        "is_comment_enabled": media.is_comment_enabled,
        "is_shared_to_feed": media.is_shared_to_feed,
        "posted_at": media.timestamp or utcnow(),
        "hashtags": extract_hashtags(media.caption),
        "mentions": extract_mentions(media.caption),
    }


def _child_values(child: IGChild) -> dict[str, Any]:
    return {
        "instagram_id": child.id,
        "media_type": child.media_type or "IMAGE",
        "media_url": child.media_url,
        "thumbnail_url": child.thumbnail_url,
        "alt_text": child.alt_text,
    }


def _path(url: str | None) -> str:
    """A URL without its query: CDN links are re-signed on every listing, paths change
    only when the picture does."""
    return urlsplit(url or "").path


def _image_path(row: Any) -> tuple[str, str]:
    return (_path(row.media_url), _path(row.thumbnail_url))


def _needs_image(url: str | None) -> str:
    return MediaStatus.PENDING if url else MediaStatus.NONE


def _must_fetch(row: Any, changed: bool, restored: bool) -> bool:
    """A row with an image link is downloaded (again) when the picture changed, when it had
    nothing to download before (NONE: for example files removed by the retention cleanup),
    or when a post listed again has no files left."""
    if changed or row.media_status == MediaStatus.NONE:
        return True
    return restored and row.local_image_path is None


def _to_fetch(row: Any) -> None:
    row.media_status = MediaStatus.PENDING  # previous files, if any, stay shown meanwhile


def _assign(row: Any, values: dict[str, Any]) -> set[str]:
    changed = {name for name, value in values.items() if getattr(row, name) != value}
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _sync_children(
    post: InstagramPost, children: list[IGChild], restored: bool = False
) -> tuple[bool, bool]:
    """(any column changed, anything but a re-signed link changed)."""
    changed = content = False
    existing = {child.position: child for child in post.children}
    for position, child in enumerate(children):
        values = _child_values(child)
        row = existing.pop(position, None)
        if row is None:
            post.children.append(
                PostMedia(position=position, media_status=_needs_image(child.image_url), **values)
            )
            changed = content = True
            continue
        before = _image_path(row)
        touched = _assign(row, values)
        moved = before != _image_path(row) or "instagram_id" in touched
        if child.image_url and _must_fetch(row, moved, restored):
            _to_fetch(row)
        changed |= bool(touched)
        content |= moved or bool(touched - URL_FIELDS)
    for row in existing.values():  # the album lost children
        post.children.remove(row)
        changed = content = True
    return changed, content


async def load_posts(session: AsyncSession, ids: list[str]) -> dict[str, InstagramPost]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(InstagramPost)
        .where(InstagramPost.instagram_id.in_(ids))
        .options(selectinload(InstagramPost.children))
    )
    return {post.instagram_id: post for post in rows}


def upsert_post(
    session: AsyncSession,
    account: InstagramAccount,
    media: IGMedia,
    existing: InstagramPost | None,
    moderator: Moderator,
) -> tuple[Outcome, InstagramPost]:
    values = post_values(media, account)
    if existing is None:
        post = InstagramPost(
            instagram_id=media.id,
            account_id=account.id,
            media_status=_needs_image(own_image_url(media, media.children)),
            manual_fields=[],
            moderation_reason={},
            content_tags=[],
            **values,
        )
        post.children = []
        _sync_children(post, media.children)
        moderator.apply(post, account)
        post.last_synced_at = utcnow()
        session.add(post)
        return Outcome.ADDED, post

    post = existing
    before = (_image_path(post), _path(own_image_url(post, post.children)))
    for name in post.manual_fields or ():
        values.pop(name, None)  # an admin's override outlives syncs
    changed = _assign(post, values)
    if post.account_id != account.id:
        post.account_id = account.id
        changed.add("account_id")
    restored = post.deleted_at is not None
    if restored:  # listed again: it is back
        post.deleted_at = None
        changed.add("deleted_at")
    image = own_image_url(media, media.children)
    moved = before != (_image_path(post), _path(image))
    if image and _must_fetch(post, moved, restored):
        _to_fetch(post)  # a new picture (or none left): download it, retries anew
        post.sync_retry_count = 0
    if image is None and post.media_status == MediaStatus.PENDING:
        post.media_status = MediaStatus.NONE
    children_changed, children_content = _sync_children(post, media.children, restored)
    if not changed and not children_changed:
        return Outcome.UNCHANGED, post
    moderator.apply(post, account)
    post.last_synced_at = utcnow()
    if not moved and changed <= URL_FIELDS and not children_content:
        return Outcome.REFRESHED, post
    return Outcome.UPDATED, post
