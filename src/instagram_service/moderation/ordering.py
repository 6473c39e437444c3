"""Hand ordering of the gallery: move a post up or down, or place several in a new order.

The gallery sorts featured posts first, then by `display_order`, then newest first. Posts
that were never ordered all have 0, so moving one past its neighbour needs the whole order
written down: every not-deleted post in scope is numbered 1..n in its current gallery order,
the move is applied, and the posts whose number changed get it as an admin decision. Posts
synced later (order 0) appear first, as new posts should.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.errors import NotFound
from instagram_service.models import InstagramPost
from instagram_service.moderation.service import set_by_admin
from instagram_service.posts.service import GALLERY_ORDER


async def _in_order(
    session: AsyncSession, account_ids: Sequence[int] | None
) -> list[InstagramPost]:
    query = select(InstagramPost).where(InstagramPost.deleted_at.is_(None))
    if account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(account_ids))
    return list(await session.scalars(query.order_by(*GALLERY_ORDER)))


# post id -> (display_order before, whether the admin had set it), for undo.
Before = dict[int, tuple[int, bool]]


def _number(posts: list[InstagramPost]) -> Before:
    """Number the posts 1..n; returns what the changed ones had before."""
    before: Before = {}
    for position, post in enumerate(posts, start=1):
        if post.display_order != position:
            before[post.id] = (post.display_order, "display_order" in (post.manual_fields or ()))
            set_by_admin(post, {"display_order": position})
    return before


async def move(
    session: AsyncSession,
    post_id: int,
    direction: Literal["up", "down"],
    account_ids: Sequence[int] | None = None,
) -> Before:
    """Swap a post with its neighbour in the gallery order; returns the old orders changed."""
    posts = await _in_order(session, account_ids)
    index = next((i for i, post in enumerate(posts) if post.id == post_id), None)
    if index is None:
        raise NotFound(f"post {post_id} not found")
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(posts) and posts[other].is_featured == posts[index].is_featured:
        posts[index], posts[other] = posts[other], posts[index]
    return _number(posts)


async def place(
    session: AsyncSession, ordered_ids: Sequence[int], account_ids: Sequence[int] | None = None
) -> Before:
    """Put these posts (say, one page after a drag and drop) in this order, in the slots
    they already take in the gallery order; returns the old orders changed."""
    wanted = list(dict.fromkeys(ordered_ids))
    posts = await _in_order(session, account_ids)
    slots = [i for i, post in enumerate(posts) if post.id in set(wanted)]
    if len(slots) != len(wanted):
        known = {post.id for post in posts}
        missing = [str(i) for i in wanted if i not in known]
        raise NotFound(f"posts not found: {', '.join(missing)}")
    by_id = {post.id: post for post in posts}
    moved = [by_id[i] for i in wanted]
    for slot, post in zip(slots, moved, strict=True):
        posts[slot] = post
    return _number(posts)
