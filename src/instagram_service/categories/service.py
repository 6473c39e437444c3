"""Create, rename and delete categories; check the names posts and rules use. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import get_or_404
from instagram_service.errors import Conflict, ServiceError
from instagram_service.models import FALLBACK_CATEGORY, Category, ContentFilter, InstagramPost


class UnknownCategory(ServiceError):
    status_code = 422


async def list_categories(session: AsyncSession) -> Sequence[Category]:
    return (await session.scalars(select(Category).order_by(Category.name))).all()


async def names(session: AsyncSession) -> list[str]:
    return [row.name for row in await list_categories(session)]


async def require(session: AsyncSession, name: str | None) -> None:
    """A 422 unless `name` is None or a managed category."""
    if name is None:
        return
    if await session.scalar(select(Category.id).where(Category.name == name)) is None:
        known = ", ".join(await names(session))
        raise UnknownCategory(f"unknown category {name!r}: create it first (known: {known})")


async def usage(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """name -> (posts, rules) that use it."""
    posts = dict(
        list(
            await session.execute(
                select(InstagramPost.gallery_category, func.count())
                .where(InstagramPost.deleted_at.is_(None))
                .group_by(InstagramPost.gallery_category)
            )
        )
    )
    rules = dict(
        list(
            await session.execute(
                select(ContentFilter.category, func.count())
                .where(ContentFilter.category.is_not(None))
                .group_by(ContentFilter.category)
            )
        )
    )
    return {
        row.name: (int(posts.get(row.name, 0)), int(rules.get(row.name, 0)))
        for row in await list_categories(session)
    }


async def _check_free(session: AsyncSession, name: str) -> None:
    if await session.scalar(select(Category.id).where(Category.name == name)) is not None:
        raise Conflict(f"category {name!r} already exists")


async def create_category(session: AsyncSession, name: str) -> Category:
    await _check_free(session, name)
    row = Category(name=name)
    session.add(row)
    await session.flush()
    return row


async def rename_category(session: AsyncSession, category_id: int, name: str) -> Category:
    """Rename, and carry the posts and rules that named the old one over to the new name."""
    row = await get_or_404(session, Category, category_id, "category")
    if row.name == name:
        return row
    if row.name == FALLBACK_CATEGORY:
        raise Conflict(f"{FALLBACK_CATEGORY!r} is the fallback category and keeps its name")
    await _check_free(session, name)
    old = row.name
    row.name = name
    await _move_posts(session, old, name)
    for rule in await session.scalars(select(ContentFilter).where(ContentFilter.category == old)):
        rule.category = name
    await session.flush()
    return row


async def _move_posts(session: AsyncSession, old: str, new: str) -> int:
    # Through the ORM, not one UPDATE: the gallery cache and webhooks see row changes.
    posts = (
        await session.scalars(select(InstagramPost).where(InstagramPost.gallery_category == old))
    ).all()
    for post in posts:
        post.gallery_category = new
    return len(posts)


async def delete_category(session: AsyncSession, category_id: int) -> int:
    """Delete; its posts move to the fallback category. Returns how many moved.

    Refused while a rule categorises into it (the rule would name nothing)."""
    row = await get_or_404(session, Category, category_id, "category")
    if row.name == FALLBACK_CATEGORY:
        raise Conflict(f"{FALLBACK_CATEGORY!r} is the fallback category and cannot be deleted")
    rules = (
        await session.scalars(select(ContentFilter.name).where(ContentFilter.category == row.name))
    ).all()
    if rules:
        raise Conflict(f"category {row.name!r} is used by rules: {', '.join(rules)}")
    moved = await _move_posts(session, row.name, FALLBACK_CATEGORY)
    await session.delete(row)
    await session.flush()
    return moved
