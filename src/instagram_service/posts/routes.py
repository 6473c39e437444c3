from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from instagram_service.apikeys.auth import OptionalKey, ReadKey, check_account, key_accounts
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND, UNAUTHORIZED
from instagram_service.kit.pagination import Limit, Offset, page_of
from instagram_service.models import ModerationStatus
from instagram_service.posts import service
from instagram_service.posts.http import from_cache, public_base
from instagram_service.posts.schemas import (
    AdminPost,
    AdminPostPage,
    CategoriesOut,
    CategoryCount,
    GalleryPage,
    PublicPost,
    admin_post,
    public_post,
)

public = APIRouter(prefix="/api/v1", tags=["gallery"])
admin = APIRouter(prefix="/api/v1", tags=["posts (admin)"], responses=ADMIN_ERRORS)


async def _gallery_response(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    *,
    category: str | None,
    account: str | None,
    featured_only: bool,
    limit: int,
    offset: int,
) -> Response:
    base = public_base(request, settings)
    key = f"{base}{request.url.path}|{category}|{account}|{featured_only}|{limit}|{offset}"

    async def build() -> bytes:
        async with db.sessionmaker() as session:
            posts, total = await service.gallery(
                session,
                category=category,
                account=account,
                featured_only=featured_only,
                limit=limit,
                offset=offset,
            )
            items = [public_post(p, base, media_url=settings.media_public_url) for p in posts]
            page = page_of(GalleryPage, items, total, limit=limit, offset=offset)
        return page.model_dump_json().encode()

    return await from_cache(request, db, settings, key, build, fast=True)


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)"}
}
GALLERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": GalleryPage, "description": "Approved posts, featured first."},
    **NOT_MODIFIED,
}
CATEGORIES_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": CategoriesOut, "description": "Categories with their public post counts."},
    **NOT_MODIFIED,
}


async def gallery(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    category: str | None = Query(None, max_length=32, examples=["portfolio"]),
    account: str | None = Query(None, max_length=64, description="Username or id."),
    limit: int = Query(24, ge=1, le=100),
    offset: int = Query(0, ge=0, le=100_000),
) -> Response:
    """The public gallery: approved posts, featured first, then display order, then newest."""
    return await _gallery_response(
        request, db, settings, category=category, account=account,
        featured_only=False, limit=limit, offset=offset,
    )  # fmt: skip


async def featured(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    account: str | None = Query(None, max_length=64),
    limit: int = Query(12, ge=1, le=100),
    offset: int = Query(0, ge=0, le=100_000),
) -> Response:
    """Featured posts only."""
    return await _gallery_response(
        request, db, settings, category=None, account=account,
        featured_only=True, limit=limit, offset=offset,
    )  # fmt: skip


async def categories(request: Request, db: DatabaseDep, settings: SettingsDep) -> Response:
    """Categories of the public gallery with their post counts."""

    async def build() -> bytes:
        async with db.sessionmaker() as session:
            rows = await service.category_counts(session)
        out = CategoriesOut(items=[CategoryCount(category=c, count=n) for c, n in rows])
        return out.model_dump_json().encode()

    return await from_cache(request, db, settings, request.url.path, build, fast=True)


for _path, _endpoint, _responses in (
    ("/gallery", gallery, GALLERY_RESPONSES),
    ("/gallery/featured", featured, GALLERY_RESPONSES),
    ("/gallery/categories", categories, CATEGORIES_RESPONSES),
):
    public.add_api_route(_path, _endpoint, response_class=Response, responses=_responses)


@public.get(
    "/posts/{post_id}",
    response_model=AdminPost | PublicPost,
    responses={**UNAUTHORIZED, **NOT_FOUND},
)
async def get_post(
    request: Request,
    post_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    key: OptionalKey,
) -> AdminPost | PublicPost:
    """A post. Without a key: public posts only, public shape. With a key: any post, admin shape."""
    post = await service.get_post(session, post_id, public=key is None)
    if key is not None:
        check_account(key, post.account_id, f"post {post_id}")
        return admin_post(post, settings.public_base_url, media_url=settings.media_public_url)
    return public_post(post, public_base(request, settings), media_url=settings.media_public_url)


@admin.get("/posts", response_model=AdminPostPage)
async def list_posts(
    session: SessionDep,
    settings: SettingsDep,
    key: ReadKey,
    status: str | None = Query(None, pattern="^(pending|approved|rejected)$"),
    category: str | None = Query(None, max_length=32),
    featured: bool | None = None,
    account: str | None = Query(None, max_length=64),
    q: str | None = Query(None, max_length=200, description="Text search in captions."),
    deleted: bool = Query(False, description="List soft-deleted posts instead."),
    limit: Limit = 50,
    offset: Offset = 0,
) -> AdminPostPage:
    """All posts with moderation details; `status=pending` is the moderation queue."""
    wanted = ModerationStatus(status) if status else None
    posts, total = await service.admin_posts(
        session, status=wanted, category=category, featured=featured, account=account,
        search=q, deleted=deleted, limit=limit, offset=offset, account_ids=key_accounts(key),
    )  # fmt: skip
    items = [
        admin_post(p, settings.public_base_url, media_url=settings.media_public_url) for p in posts
    ]
    return page_of(AdminPostPage, items, total, limit=limit, offset=offset)
