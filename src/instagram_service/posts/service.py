"""Post queries: the public gallery and the admin listing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.accounts.service import find_account
from instagram_service.errors import NotFound
from instagram_service.kit.pagination import count
from instagram_service.models import InstagramPost, ModerationStatus
from instagram_service.posts.visibility import public_filter

GALLERY_ORDER = (
    InstagramPost.is_featured.desc(),
    InstagramPost.display_order.asc(),
    InstagramPost.posted_at.desc(),
    InstagramPost.id.desc(),
)


NEWEST_FIRST = (InstagramPost.posted_at.desc(), InstagramPost.id.desc())


async def _account_id(session: AsyncSession, ref: str) -> int:
    account = await find_account(session, ref)
    return account.id if account is not None else -1  # unknown: matches nothing


async def _page(
    session: AsyncSession, query: Select[Any], order: Sequence[Any], limit: int, offset: int
) -> tuple[Sequence[InstagramPost], int]:
    """One page of posts (children loaded) and the count of all the query matches."""
    total = await count(session, query)
    rows = await session.scalars(
        query.options(selectinload(InstagramPost.children))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total


async def gallery(
    session: AsyncSession,
    *,
    category: str | None = None,
    account: str | None = None,
    featured_only: bool = False,
    limit: int = 24,
    offset: int = 0,
) -> tuple[Sequence[InstagramPost], int]:
    query = public_filter(select(InstagramPost))
    if category:
        query = query.where(InstagramPost.gallery_category == category)
    if account:
        account_id = await _account_id(session, account)
        query = query.where(InstagramPost.account_id == account_id)
    if featured_only:
        query = query.where(InstagramPost.is_featured.is_(True))
    return await _page(session, query, GALLERY_ORDER, limit, offset)


async def category_counts(session: AsyncSession) -> list[tuple[str, int]]:
    query = public_filter(select(InstagramPost)).subquery()
    rows = await session.execute(
        select(query.c.gallery_category, func.count())
        .group_by(query.c.gallery_category)
        .order_by(func.count().desc(), query.c.gallery_category)
    )
    return [(str(category), int(count)) for category, count in rows]


async def get_post(session: AsyncSession, post_id: int, *, public: bool) -> InstagramPost:
    query = select(InstagramPost).where(InstagramPost.id == post_id)
    if public:
        query = public_filter(query)
    post = await session.scalar(query.options(selectinload(InstagramPost.children)))
    if post is None:
        raise NotFound(f"post {post_id} not found")
    return post


async def admin_posts(
    session: AsyncSession,
    *,
    status: ModerationStatus | None = None,
    category: str | None = None,
    featured: bool | None = None,
    account: str | None = None,
    search: str | None = None,
    deleted: bool = False,
    limit: int = 50,
    offset: int = 0,
    account_ids: Sequence[int] | None = None,
    gallery_order: bool = False,
) -> tuple[Sequence[InstagramPost], int]:
    query = select(InstagramPost)
    if account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(account_ids))
    query = query.where(
        InstagramPost.deleted_at.is_not(None) if deleted else InstagramPost.deleted_at.is_(None)
    )
    if status is not None:
        query = query.where(status.clause())
    if category:
        query = query.where(InstagramPost.gallery_category == category)
    if featured is not None:
        query = query.where(InstagramPost.is_featured.is_(featured))
    if account:
        query = query.where(InstagramPost.account_id == await _account_id(session, account))
    if search:
        words = [w for w in search.split() if w][:8]
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                or_(
                    InstagramPost.caption.ilike(f"%{escaped}%", escape="\\"),
                    InstagramPost.instagram_id == word,
                )
            )
    order = GALLERY_ORDER if gallery_order else NEWEST_FIRST
    return await _page(session, query, order, limit, offset)
