"""Re-apply the rules to every post after the rules change (API, CLI, task queue)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database
from instagram_service.models import InstagramPost
from instagram_service.moderation.seam import RulesModerator, load_rules
from instagram_service.settings import Settings

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RerunResult:
    processed: int
    changed: int


async def rerun_moderation(
    db: Database, settings: Settings, *, progress: Progress | None = None
) -> RerunResult:
    """Apply the active rules to all not-deleted posts, a committed batch at a time.

    Admin-set fields are left alone. `progress(done, total)` is called after each batch.
    """
    not_deleted = InstagramPost.deleted_at.is_(None)
    async with db.session() as session:
        moderator = RulesModerator(await load_rules(session, settings))
        count = select(func.count()).select_from(InstagramPost).where(not_deleted)
        total = int(await session.scalar(count) or 0)
    processed = changed = 0
    last_id = 0
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
            for post in posts:
                changed += moderator.apply_changed(post, post.account)
        if not posts:
            break
        processed += len(posts)
        last_id = posts[-1].id
        if progress is not None:
            progress(processed, max(total, processed))
    return RerunResult(processed=processed, changed=changed)
