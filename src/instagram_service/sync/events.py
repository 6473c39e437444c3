"""What a sync tells the CMS: per-post changes once images are in, one gallery.changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.models import InstagramPost, WebhookSubscription
from instagram_service.posts.schemas import is_public
from instagram_service.webhooks.emit import emit_gallery_changed, emit_post_change, transition


@dataclass
class PageChanges:
    """Visibility before the page was stored, and which posts the page changed."""

    was_public: dict[str, bool] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


async def has_subscribers(session: AsyncSession) -> bool:
    found = await session.scalar(
        select(WebhookSubscription.id).where(WebhookSubscription.is_active.is_(True)).limit(1)
    )
    return found is not None


async def emit_page_changes(session: AsyncSession, page: PageChanges) -> int:
    """Emit post.published/updated/removed for one stored page; returns how many."""
    if not page.was_public or not await has_subscribers(session):
        return 0
    posts = await session.scalars(
        select(InstagramPost)
        .where(InstagramPost.instagram_id.in_(list(page.was_public)))
        .options(selectinload(InstagramPost.children))
    )
    emitted = 0
    for post in posts:
        kind = transition(
            page.was_public[post.instagram_id], is_public(post), post.instagram_id in page.changed
        )
        if kind is not None:
            await emit_post_change(session, kind, post)
            emitted += 1
    return emitted


async def emit_removed(session: AsyncSession, posts: list[InstagramPost]) -> int:
    if not posts or not await has_subscribers(session):
        return 0
    for post in posts:
        await emit_post_change(session, "removed", post)
    return len(posts)


async def emit_gone_from_gallery(
    session: AsyncSession, posts: Sequence[InstagramPost], reason: str
) -> int:
    """Posts about to leave every public output (e.g. hard-deleted): post.removed for each
    one the gallery shows now, then one gallery.changed if there was any; returns how many."""
    visible = [post for post in posts if is_public(post)]
    emitted = await emit_removed(session, visible)
    if emitted:
        await emit_gallery_changed(session, reason)
    return emitted


async def emit_sync_summary(session: AsyncSession, job_id: int, changes: int) -> None:
    if changes:
        await emit_gallery_changed(session, f"sync job {job_id}: {changes} posts changed")


async def public_state(session: AsyncSession, post_ids: list[int]) -> dict[int, bool]:
    """Which of these posts the gallery shows now (before an admin change)."""
    posts = await session.scalars(select(InstagramPost).where(InstagramPost.id.in_(post_ids)))
    return {post.id: is_public(post) for post in posts}


async def emit_admin_changes(session: AsyncSession, before: dict[int, bool]) -> int:
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
    emitted = 0
    for post in posts:
        kind = transition(before[post.id], is_public(post), changed=True)
        if kind is not None:
            await emit_post_change(session, kind, post)
            emitted += 1
    if emitted:
        await emit_gallery_changed(session, f"admin changed {emitted} posts")
    return emitted
