"""The public feed: its JSON (built once per change and cached as bytes) and the origins a
feed lets embed it, which the CORS middleware reads for the feed's public routes."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.feeds import service
from instagram_service.feeds.schemas import Display, FeedPostPage, Profile, PublicFeed
from instagram_service.kit.pagination import next_offset
from instagram_service.models import Feed, InstagramAccount
from instagram_service.posts.schemas import public_post

# slug -> the feed's allowed origins (empty: any), as of the last build of its response.
_origins: dict[str, tuple[str, ...]] = {}


def allowed_origins(slug: str) -> tuple[str, ...] | None:
    """The origins a feed allows (empty: any); None for a feed not built in this process."""
    return _origins.get(slug)


def profile(account: InstagramAccount, base: str) -> Profile:
    return Profile(
        username=account.username,
        name=account.name,
        avatar_url=None,
        biography=account.biography,
        followers_count=account.followers_count,
        profile_url=f"https://www.instagram.com/{account.username}/",
    )


def display_of(feed: Feed) -> Display:
    return Display.model_validate(feed.display or {})


async def public_feed(
    session: AsyncSession,
    slug: str,
    base: str,
    *,
    limit: int | None,
    offset: int,
    until: int | None,
    category: str | None = None,
) -> PublicFeed:
    feed = await service.feed_by_slug(session, slug)
    _origins[slug] = tuple(feed.allowed_origins or ())
    display = display_of(feed)
    size = limit or display.page_size
    posts, total, until = await service.feed_posts(
        session, feed, limit=size, offset=offset, until=until, category=category
    )
    following = next_offset(offset, size, total)
    next_url = None
    if following is not None:
        params = {"offset": following, "limit": size, "until": until, "category": category}
        query = urlencode({k: v for k, v in params.items() if v is not None})
        next_url = f"{base}/api/v1/feeds/{feed.slug}?{query}"
    accounts = await service.feed_accounts(session, feed)
    return PublicFeed(
        slug=feed.slug,
        title=feed.title,
        description=feed.description,
        display=display,
        profiles=[profile(account, base) for account in accounts],
        posts=FeedPostPage(
            items=[public_post(post, base) for post in posts],
            total=total,
            limit=size,
            offset=offset,
            next_offset=following,
            until=until,
            next=next_url,
        ),
    )
