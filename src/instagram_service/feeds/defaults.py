"""Every connected account gets a feed of its own (slug = its username). Kept apart from
feeds/service.py, which reads posts: accounts/service.py calls this when it connects one."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.models import Feed, InstagramAccount


def default_slug(username: str, account_id: int) -> str:
    """An account's feed slug: its username, lowered, in the slug alphabet, not all digits."""
    text = "".join(c for c in username.lower() if c.isascii() and (c.isalnum() or c in "._-"))
    text = text.strip("._-")[:56] or f"account-{account_id}"
    return f"{text}-feed" if text.isdigit() else text


async def ensure_default_feed(session: AsyncSession, account: InstagramAccount) -> Feed:
    """The account's own feed, made once (a slug already taken gets a number)."""
    feed = await session.scalar(select(Feed).where(Feed.default_for_account_id == account.id))
    if feed is not None:
        return feed
    slug = base = default_slug(account.username, account.id)
    n = 1
    while await session.scalar(select(exists(select(Feed.id).where(Feed.slug == slug)))):
        n += 1
        slug = f"{base[:60]}-{n}"
    feed = Feed(
        slug=slug,
        title=f"@{account.username}",
        account_ids=[account.id],
        categories=[],
        display={},
        allowed_origins=[],
        default_for_account_id=account.id,
    )
    session.add(feed)
    await session.flush()
    return feed
