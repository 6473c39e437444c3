"""Feeds: create, list, change and delete them; the posts and profiles a public feed shows.

Every function takes a session and plain values and never commits (the caller's unit of work
does), so the admin routes and the admin console call the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.db import get_or_404
from instagram_service.errors import BadRequest, Conflict, NotFound
from instagram_service.models import Feed, InstagramAccount, InstagramPost
from instagram_service.posts.service import GALLERY_ORDER
from instagram_service.posts.visibility import public_filter

NEWEST_ORDER = (InstagramPost.posted_at.desc(), InstagramPost.id.desc())
_FIELDS = (
    "slug", "title", "description", "account_ids", "categories", "featured_only", "max_posts",
    "ordering", "display", "allowed_origins",
)  # fmt: skip


async def _check_accounts(session: AsyncSession, account_ids: Iterable[int]) -> None:
    wanted = set(account_ids)
    found = set(
        await session.scalars(select(InstagramAccount.id).where(InstagramAccount.id.in_(wanted)))
    )
    if missing := sorted(wanted - found):
        raise BadRequest(f"unknown account ids: {missing}")


async def _check_slug(session: AsyncSession, slug: str, feed_id: int | None = None) -> None:
    taken = select(Feed.id).where(Feed.slug == slug)
    if feed_id is not None:
        taken = taken.where(Feed.id != feed_id)
    if await session.scalar(select(exists(taken))):
        raise Conflict(f"the slug {slug!r} is taken")


async def _flush(session: AsyncSession, slug: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the slug first
        raise Conflict(f"the slug {slug!r} is taken") from exc


async def create_feed(session: AsyncSession, **values: Any) -> Feed:
    """A new feed from the fields of `FeedCreate` (plain values; `display` a dict)."""
    unknown = set(values) - set(_FIELDS) - {"default_for_account_id"}
    if unknown:
        raise BadRequest(f"unknown feed fields: {sorted(unknown)}")
    await _check_accounts(session, values.get("account_ids") or [])
    await _check_slug(session, values["slug"])
    feed = Feed(**{"categories": [], "display": {}, "allowed_origins": [], **values})
    session.add(feed)
    await _flush(session, feed.slug)
    return feed


def feeds_query() -> Select[Feed]:
    """Every feed, oldest first (for `routing.paginate`)."""
    return select(Feed).order_by(Feed.id)


async def list_feeds(session: AsyncSession) -> Sequence[Feed]:
    return (await session.scalars(feeds_query())).all()


async def get_feed(session: AsyncSession, feed_id: int) -> Feed:
    return await get_or_404(session, Feed, feed_id, "feed")


async def feed_by_slug(session: AsyncSession, slug: str) -> Feed:
    feed = await session.scalar(select(Feed).where(Feed.slug == slug))
    if feed is None:
        raise NotFound(f"feed {slug!r} not found")
    return feed


async def update_feed(session: AsyncSession, feed_id: int, changes: dict[str, Any]) -> Feed:
    """Set the given fields (those of `FeedUpdate` that were sent)."""
    feed = await get_feed(session, feed_id)
    if unknown := set(changes) - set(_FIELDS):
        raise BadRequest(f"unknown feed fields: {sorted(unknown)}")
    for name in ("slug", "title", "account_ids", "categories", "display", "allowed_origins"):
        if name in changes and changes[name] is None:
            raise BadRequest(f"{name} cannot be null")
    if "account_ids" in changes:
        await _check_accounts(session, changes["account_ids"])
    if "slug" in changes:
        await _check_slug(session, changes["slug"], feed.id)
    for name, value in changes.items():
        setattr(feed, name, value)
    await _flush(session, feed.slug)
    return feed


async def delete_feed(session: AsyncSession, feed_id: int) -> None:
    feed = await get_feed(session, feed_id)
    await session.delete(feed)
    await session.flush()


def _posts_query(feed: Feed, until: int | None, category: str | None) -> Select[InstagramPost]:
    query = public_filter(select(InstagramPost)).where(
        InstagramPost.account_id.in_(feed.account_ids or [-1])
    )
    if feed.categories:
        query = query.where(InstagramPost.gallery_category.in_(feed.categories))
    if category:  # within the feed's categories: narrows, never widens
        query = query.where(InstagramPost.gallery_category == category)
    if feed.featured_only:
        query = query.where(InstagramPost.is_featured.is_(True))
    if until is not None:
        query = query.where(InstagramPost.id <= until)
    return query


async def feed_posts(
    session: AsyncSession,
    feed: Feed,
    *,
    limit: int,
    offset: int,
    until: int | None = None,
    category: str | None = None,
) -> tuple[Sequence[InstagramPost], int, int | None]:
    """One page of the feed's public posts, their total (capped at `max_posts`), and the
    `until` id that later pages pass on: posts added after the first page are left for the
    next load, so offsets keep pointing at the same posts."""
    query = _posts_query(feed, until, category)
    if until is None:
        until = await session.scalar(select(func.max(query.subquery().c.id)))
        if until is not None:
            query = _posts_query(feed, until, category)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if feed.max_posts is not None:
        total = min(total, feed.max_posts)
        limit = max(0, min(limit, total - offset))
    if limit == 0:
        return [], total, until
    order = NEWEST_ORDER if feed.ordering == "newest" else GALLERY_ORDER
    rows = await session.scalars(
        query.options(selectinload(InstagramPost.children))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total, until


async def feed_accounts(session: AsyncSession, feed: Feed) -> Sequence[InstagramAccount]:
    """The feed's accounts, in the feed's order."""
    rows = await session.scalars(
        select(InstagramAccount).where(InstagramAccount.id.in_(feed.account_ids or [-1]))
    )
    by_id = {account.id: account for account in rows}
    return [by_id[i] for i in feed.account_ids if i in by_id]
