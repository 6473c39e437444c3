"""What a change to posts means to the CMS: post.published/updated/removed and one
gallery.changed, recorded in the outbox by whoever changed them (sync, moderation, accounts,
incoming webhooks), in their own transaction.

`post.published|updated` carry the public shape, and are sent only for a post the gallery
shows (`is_public`); `post.removed` carries `{id, instagram_id, permalink}`. `base_url` is
`settings.public_base_url` (image URLs absolute when it is set), `media_url`
`settings.media_public_url` (image URLs on the CDN or bucket when it is set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.events.outbox import has_subscribers, record_event, record_gallery_changed
from instagram_service.models import InstagramPost
from instagram_service.posts.schemas import public_post_dict
from instagram_service.posts.visibility import is_public

PostChange = Literal["published", "updated", "removed"]


def transition(was_public: bool, now_public: bool, changed: bool) -> PostChange | None:
    """What a change means to the CMS, given whether the gallery showed the post before
    and shows it now."""
    if now_public and not was_public:
        return "published"
    if now_public and changed:
        return "updated"
    if was_public and not now_public:
        return "removed"
    return None


async def record_post_change(
    session: AsyncSession,
    kind: PostChange,
    post: InstagramPost,
    *,
    base_url: str,
    media_url: str = "",
) -> list[int]:
    if post.id is None:
        await session.flush()
    if kind == "removed":
        data: dict[str, Any] = {
            "id": post.id,
            "instagram_id": post.instagram_id,
            "permalink": post.permalink,
        }
        return await record_event(session, "post.removed", data)
    if not is_public(post):
        return []
    if "children" in inspect(post).unloaded:
        await session.refresh(post, attribute_names=["children"])
    data = public_post_dict(post, base_url, media_url=media_url)
    return await record_event(session, f"post.{kind}", data)


async def record_post_transition(
    session: AsyncSession,
    post: InstagramPost,
    *,
    was_public: bool,
    changed: bool,
    base_url: str,
    media_url: str = "",
) -> list[int]:
    """Record what a change of `post` means to the CMS, given whether the gallery showed it
    before: published, updated, removed (each with gallery.changed), or nothing."""
    kind = transition(was_public, is_public(post), changed)
    if kind is None:
        return []
    ids = await record_post_change(session, kind, post, base_url=base_url, media_url=media_url)
    return ids + await record_gallery_changed(session, f"post {post.id} {kind}")


@dataclass
class PageChanges:
    """Visibility before a batch of posts was stored, and which posts the batch changed."""

    was_public: dict[str, bool] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


async def record_page_changes(
    session: AsyncSession, page: PageChanges, *, base_url: str, media_url: str = ""
) -> int:
    """Record post.published/updated/removed for one stored page; returns how many."""
    if not page.was_public or not await has_subscribers(session):
        return 0
    posts = await session.scalars(
        select(InstagramPost)
        .where(InstagramPost.instagram_id.in_(list(page.was_public)))
        .options(selectinload(InstagramPost.children))
    )
    recorded = 0
    for post in posts:
        kind = transition(
            page.was_public[post.instagram_id], is_public(post), post.instagram_id in page.changed
        )
        if kind is not None:
            await record_post_change(session, kind, post, base_url=base_url, media_url=media_url)
            recorded += 1
    return recorded


async def record_removed(session: AsyncSession, posts: Sequence[InstagramPost]) -> int:
    if not posts or not await has_subscribers(session):
        return 0
    for post in posts:
        await record_post_change(session, "removed", post, base_url="")
    return len(posts)


async def record_gone_from_gallery(
    session: AsyncSession, posts: Sequence[InstagramPost], reason: str
) -> int:
    """Posts about to leave every public output (e.g. hard-deleted): post.removed for each
    one the gallery shows now, then one gallery.changed if there was any; returns how many."""
    visible = [post for post in posts if is_public(post)]
    recorded = await record_removed(session, visible)
    if recorded:
        await record_gallery_changed(session, reason)
    return recorded


async def record_sync_summary(session: AsyncSession, job_id: int, changes: int) -> None:
    if changes:
        await record_gallery_changed(session, f"sync job {job_id}: {changes} posts changed")


async def public_state(session: AsyncSession, post_ids: list[int]) -> dict[int, bool]:
    """Which of these posts the gallery shows now (before an admin change)."""
    posts = await session.scalars(select(InstagramPost).where(InstagramPost.id.in_(post_ids)))
    return {post.id: is_public(post) for post in posts}


async def record_admin_changes(
    session: AsyncSession, before: dict[int, bool], *, base_url: str, media_url: str = ""
) -> int:
    """After an admin changed these posts: per-post events and one gallery.changed."""
    if not before or not await has_subscribers(session):
        return 0
    await session.flush()
    posts = await session.scalars(
        select(InstagramPost)
        .where(InstagramPost.id.in_(list(before)))
        .options(selectinload(InstagramPost.children))
        .execution_options(populate_existing=True)
    )
    recorded = 0
    for post in posts:
        kind = transition(before[post.id], is_public(post), changed=True)
        if kind is not None:
            await record_post_change(session, kind, post, base_url=base_url, media_url=media_url)
            recorded += 1
    if recorded:
        await record_gallery_changed(session, f"admin changed {recorded} posts")
    return recorded
