"""Re-apply the rules to every post after the rules change (API, CLI, task queue)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database
from instagram_service.events.outbox import record_gallery_changed
from instagram_service.models import InstagramPost
from instagram_service.moderation.moderator import RulesModerator, load_rules
from instagram_service.posts.changes import PageChanges, record_page_changes
from instagram_service.posts.visibility import is_public
from instagram_service.settings import Settings

# Called with (done, total) after each batch; the task's callback is async (it writes a record).
Progress = Callable[[int, int], Awaitable[None] | None]

# Fields the rules set that the public post shape shows (approval shows as visibility).
_PUBLIC_FIELDS = ("is_featured", "gallery_category")


@dataclass(frozen=True)
class RerunResult:
    processed: int
    changed: int
    public_changes: int = 0  # post.published/updated/removed events emitted


def _public_values(post: InstagramPost) -> tuple[object, ...]:
    return tuple(getattr(post, name) for name in _PUBLIC_FIELDS)


async def rerun_moderation(
    db: Database, settings: Settings, *, progress: Progress | None = None
) -> RerunResult:
    """Apply the active rules to all not-deleted posts, a committed batch at a time.

    Admin-set fields are left alone. Each batch emits, in its own transaction, what it changed
    in the gallery (like a sync page), and one `gallery.changed` follows if anything did.
    `progress(done, total)` is called after each batch.
    """
    not_deleted = InstagramPost.deleted_at.is_(None)
    async with db.session() as session:
        moderator = RulesModerator(await load_rules(session, settings))
        count = select(func.count()).select_from(InstagramPost).where(not_deleted)
        total = int(await session.scalar(count) or 0)
    processed = changed = public_changes = 0
    last_id = 0
    try:
        while True:
            # Keyset pagination: stable while a sync adds posts, and no growing OFFSET.
            async with db.session() as session:
                posts = (
                    await session.scalars(
                        select(InstagramPost)
                        .where(not_deleted, InstagramPost.id > last_id)
                        .options(selectinload(InstagramPost.account))
                        .order_by(InstagramPost.id)
                        .limit(settings.moderation_batch_size)
                    )
                ).all()
                page = PageChanges()
                for post in posts:
                    page.was_public[post.instagram_id] = is_public(post)
                    before = _public_values(post)
                    changed += moderator.apply_changed(post, post.account)
                    if _public_values(post) != before:
                        page.changed.add(post.instagram_id)
                public_changes += await record_page_changes(
                    session,
                    page,
                    base_url=settings.public_base_url,
                    media_url=settings.media_public_url,
                )
            if not posts:
                break
            processed += len(posts)
            last_id = posts[-1].id
            if progress is not None:
                reported = progress(processed, max(total, processed))
                if inspect.isawaitable(reported):
                    await reported
    finally:
        # Also after a failure: the committed batches did change the gallery.
        if public_changes:
            async with db.session() as session:
                await record_gallery_changed(
                    session, f"moderation rerun: {public_changes} posts changed"
                )
    return RerunResult(processed=processed, changed=changed, public_changes=public_changes)
