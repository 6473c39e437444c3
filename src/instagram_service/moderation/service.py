"""Content filter CRUD and admin moderation decisions. Services never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.categories import service as categories
from instagram_service.db import get_or_404
from instagram_service.errors import NotFound, ServiceError
from instagram_service.models import (
    ADMIN_TEXT_FIELDS,
    MANUAL_FIELDS,
    ContentFilter,
    InstagramPost,
)
from instagram_service.moderation.moderator import REASON_KEYS, RulesModerator, load_rules
from instagram_service.moderation.schemas import (
    FilterCreate,
    FilterUpdate,
    PostPatch,
)
from instagram_service.settings import Settings

ADMIN = "admin"


class Unprocessable(ServiceError):
    """A payload that is valid alone but not with the stored object it changes."""

    status_code = 422


def filters_query() -> Select[ContentFilter]:
    """All content filters in the order they run: priority, then id."""
    return select(ContentFilter).order_by(ContentFilter.priority, ContentFilter.id)


async def list_filters(session: AsyncSession) -> Sequence[ContentFilter]:
    return (await session.scalars(filters_query())).all()


async def get_filter(session: AsyncSession, filter_id: int) -> ContentFilter:
    return await get_or_404(session, ContentFilter, filter_id, "content filter")


async def create_filter(session: AsyncSession, data: FilterCreate) -> ContentFilter:
    await categories.require(session, data.category)
    row = ContentFilter(**data.model_dump())
    session.add(row)
    await session.flush()
    return row


async def update_filter(session: AsyncSession, filter_id: int, data: FilterUpdate) -> ContentFilter:
    row = await get_filter(session, filter_id)
    changes = data.changes()
    await categories.require(session, changes.get("category"))
    merged = {"auto_categorize": row.auto_categorize, "category": row.category, **changes}
    if merged["auto_categorize"] and merged["category"] is None:
        raise Unprocessable("auto_categorize needs a category")
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    return row


async def delete_filter(session: AsyncSession, filter_id: int) -> None:
    await session.delete(await get_filter(session, filter_id))
    await session.flush()


async def get_post(
    session: AsyncSession, post_id: int, account_ids: Sequence[int] | None = None
) -> InstagramPost:
    """A post; outside `account_ids` (a scoped key's accounts) it does not exist."""
    post = await session.scalar(
        select(InstagramPost)
        .where(InstagramPost.id == post_id)
        .options(selectinload(InstagramPost.account), selectinload(InstagramPost.children))
    )
    if post is None or (account_ids is not None and post.account_id not in account_ids):
        raise NotFound(f"post {post_id} not found")
    return post


def set_by_admin(post: InstagramPost, values: dict[str, object]) -> None:
    manual = list(post.manual_fields or ())
    reasons = dict(post.moderation_reason or {})
    for name, value in values.items():
        setattr(post, name, value)
        if (name in MANUAL_FIELDS or name in ADMIN_TEXT_FIELDS) and name not in manual:
            manual.append(name)  # later syncs leave it alone
        if name in MANUAL_FIELDS:
            reasons[REASON_KEYS[name]] = ADMIN
    # JSON columns track assignment, not mutation: assign new objects.
    post.manual_fields = manual
    post.moderation_reason = reasons


async def update_post(
    session: AsyncSession,
    post_id: int,
    patch: PostPatch,
    account_ids: Sequence[int] | None = None,
) -> InstagramPost:
    post = await get_post(session, post_id, account_ids)
    changes = patch.changes()
    await categories.require(session, changes.get("gallery_category"))
    set_by_admin(post, changes)
    await session.flush()
    return post


async def reset_moderation(
    session: AsyncSession,
    settings: Settings,
    post_id: int,
    account_ids: Sequence[int] | None = None,
) -> InstagramPost:
    """Forget the admin's decisions on a post and apply the rules to it again."""
    post = await get_post(session, post_id, account_ids)
    post.manual_fields = []
    post.display_order = 0  # the automatic order: the rules never set one
    post.moderation_reason = {
        key: value for key, value in (post.moderation_reason or {}).items() if key != "order"
    }
    RulesModerator(await load_rules(session, settings)).apply(post, post.account)
    await session.flush()
    return post


async def bulk_moderate(
    session: AsyncSession,
    ids: Sequence[int],
    action: Literal["approve", "reject"],
    account_ids: Sequence[int] | None = None,
) -> list[int]:
    """Approve or reject posts by id, as an admin; all or nothing (404 names unknown ids)."""
    wanted = list(dict.fromkeys(ids))
    query = select(InstagramPost).where(InstagramPost.id.in_(wanted))
    if account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(account_ids))
    posts = (await session.scalars(query)).all()
    missing = sorted(set(wanted) - {post.id for post in posts})
    if missing:
        raise NotFound(f"posts not found: {', '.join(map(str, missing))}")
    for post in posts:
        set_by_admin(post, {"is_approved": action == "approve"})
    await session.flush()
    return wanted
