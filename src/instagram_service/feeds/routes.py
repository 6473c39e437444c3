from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request, Response

from instagram_service.apikeys.auth import AdminKey, OptionalKey, ReadKey, key_accounts
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.errors import NotFound
from instagram_service.feeds import service
from instagram_service.feeds.public import public_feed
from instagram_service.feeds.schemas import (
    SLUG_PATTERN,
    FeedCreate,
    FeedOut,
    FeedPage,
    FeedUpdate,
    PublicFeed,
)
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND, UNAUTHORIZED, ErrorOut
from instagram_service.kit.pagination import MAX_ID, Limit, Offset, paginate
from instagram_service.models import ApiKey, Feed
from instagram_service.posts.http import from_cache, public_base

admin = APIRouter(prefix="/api/v1/feeds", tags=["feeds (admin)"], responses=ADMIN_ERRORS)
public = APIRouter(prefix="/api/v1/feeds", tags=["gallery"])


@admin.get("", response_model=FeedPage)
async def list_feeds(
    session: SessionDep, key: ReadKey, limit: Limit = 50, offset: Offset = 0
) -> FeedPage:
    """Every feed, oldest first (a key scoped to accounts: the feeds of those only)."""
    query = service.feeds_query()
    if (allowed := key_accounts(key)) is not None:  # few feeds: JSON lists compared here
        feeds = await service.list_feeds(session)
        ids = [f.id for f in feeds if set(f.account_ids or ()) <= set(allowed)]
        query = query.where(Feed.id.in_(ids))
    return await paginate(session, query, FeedPage, FeedOut, limit=limit, offset=offset)


def _check_scope(key: ApiKey, account_ids: list[int] | None) -> None:
    allowed = key_accounts(key)
    if allowed is not None and account_ids is not None and not set(account_ids) <= set(allowed):
        raise NotFound("accounts not found: this key is scoped to other accounts")


@admin.post(
    "",
    response_model=FeedOut,
    status_code=201,
    responses={409: {"model": ErrorOut, "description": "The slug is taken"}},
)
async def create_feed(body: FeedCreate, session: SessionDep, key: AdminKey) -> FeedOut:
    """Create a feed (a named public gallery of one or more accounts)."""
    _check_scope(key, body.account_ids)
    feed = await service.create_feed(session, **body.model_dump())
    return FeedOut.model_validate(feed)


@admin.patch("/{feed_id}", response_model=FeedOut, responses=NOT_FOUND)
async def update_feed(
    feed_id: IdPath, body: FeedUpdate, session: SessionDep, key: AdminKey
) -> FeedOut:
    """Change a feed; only the fields sent change."""
    _check_scope(key, (await service.get_feed(session, feed_id)).account_ids)
    _check_scope(key, body.account_ids)
    feed = await service.update_feed(session, feed_id, body.model_dump(exclude_unset=True))
    return FeedOut.model_validate(feed)


@admin.delete("/{feed_id}", status_code=204, responses=NOT_FOUND)
async def delete_feed(feed_id: IdPath, session: SessionDep, key: AdminKey) -> None:
    """Delete a feed (an account's default feed comes back only if the account reconnects)."""
    _check_scope(key, (await service.get_feed(session, feed_id)).account_ids)
    await service.delete_feed(session, feed_id)


@public.get(
    "/{ref}",
    response_class=Response,
    responses={
        200: {"model": PublicFeed | FeedOut, "description": "The public feed; with a key, by id."},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **UNAUTHORIZED,
        **NOT_FOUND,
    },
)
async def get_feed(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    session: SessionDep,
    key: OptionalKey,
    ref: str = Path(pattern=SLUG_PATTERN, description="The slug (or, with a key, the id)."),
    limit: int | None = Query(None, ge=1, le=100, description="Default: the feed's page size."),
    offset: int = Query(0, ge=0, le=100_000),
    until: int | None = Query(None, ge=1, le=MAX_ID, description="From the first page's `until`."),
    category: str | None = Query(None, max_length=32, description="Only this category."),
) -> Response:
    """A feed by slug (public: display settings, profiles, a page of posts); with a key and
    a numeric id, the admin view of the feed."""
    if key is not None and ref.isdigit():
        feed = await service.get_feed(session, int(ref))
        _check_scope(key, feed.account_ids)
        body = FeedOut.model_validate(feed).model_dump_json()
        return Response(body, media_type="application/json")
    base = public_base(request, settings)
    cache_key = f"feed|{base}|{ref}|{limit}|{offset}|{until}|{category}"

    async def build() -> bytes:
        async with db.sessionmaker() as read:
            out = await public_feed(
                read, ref, base, limit=limit, offset=offset, until=until, category=category
            )
        return out.model_dump_json().encode()

    if ref.isdigit():
        raise NotFound(f"feed {ref!r} not found")
    return await from_cache(request, db, settings, cache_key, build, fast=True)
