"""Dry run of a rule before it is saved: what applying the rules with it would change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.models import ContentFilter, InstagramPost
from instagram_service.moderation.moderator import RulesModerator, load_rules
from instagram_service.settings import Settings


@dataclass
class Preview:
    checked: int = 0
    hide: list[InstagramPost] = field(default_factory=list)  # approved now, would not be
    show: list[InstagramPost] = field(default_factory=list)  # would become approved
    feature: list[InstagramPost] = field(default_factory=list)
    unfeature: list[InstagramPost] = field(default_factory=list)
    recategorise: list[tuple[InstagramPost, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            (len(self.hide), "hide"),
            (len(self.show), "approve"),
            (len(self.feature), "feature"),
            (len(self.unfeature), "unfeature"),
            (len(self.recategorise), "recategorise"),
        ]
        said = [f"{verb} {n} post{'s' if n != 1 else ''}" for n, verb in parts if n]
        if not said:
            return f"Would change none of the {self.checked} posts."
        return "Would " + ", ".join(said) + "."


async def preview_rule(
    session: AsyncSession,
    settings: Settings,
    candidate: ContentFilter,
    account_ids: Sequence[int] | None = None,
) -> Preview:
    """Decide every not-deleted post with `candidate` in place of the stored rule of its id
    (or added, when new), leaving the admin's fields alone; nothing is written."""
    moderator = RulesModerator(await load_rules(session, settings, replace=candidate))
    query = select(InstagramPost).where(InstagramPost.deleted_at.is_(None))
    if account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(account_ids))
    posts = await session.scalars(
        query.options(selectinload(InstagramPost.account)).order_by(InstagramPost.id)
    )
    out = Preview()
    for post in posts:
        out.checked += 1
        decision = moderator.decide(post, post.account)
        manual = set(post.manual_fields or ())
        if "is_approved" not in manual and decision.is_approved != post.is_approved:
            if decision.is_approved:
                out.show.append(post)
            elif post.is_approved:  # pending <-> rejected shows no difference in the gallery
                out.hide.append(post)
        if "is_featured" not in manual and decision.is_featured != post.is_featured:
            (out.feature if decision.is_featured else out.unfeature).append(post)
        if "gallery_category" not in manual and decision.category != post.gallery_category:
            out.recategorise.append((post, decision.category))
    return out
