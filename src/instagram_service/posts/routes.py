from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from instagram_service.apikeys.auth import OptionalKey, ReadKey, check_account, key_accounts
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.posts import service
from instagram_service.posts.cache import gallery_cache
from instagram_service.posts.schemas import (
    AdminPost,
    AdminPostPage,
    CategoriesOut,
    CategoryCount,
    GalleryPage,
    PublicPost,
    admin_post,
    next_offset,
    public_post,
)
from instagram_service.routing import ADMIN_ERRORS, NOT_FOUND, UNAUTHORIZED

public = APIRouter(prefix="/api/v1", tags=["gallery"])
admin = APIRouter(prefix="/api/v1", tags=["posts (admin)"], responses=ADMIN_ERRORS)

_JSON = "application/json"


def not_modified(if_none_match: bytes, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list of tags compared weakly (`W/"x"` matches `"x"`)."""
    sent = if_none_match.decode("latin-1")
    if sent == etag:  # what a browser sends back: one tag, as given
        return True
    tags = [tag.strip() for tag in sent.split(",")]
    return tags == ["*"] or any(tag.removeprefix("W/") == etag for tag in tags)


def _cached_response(request: Request, body: bytes, etag: str, max_age: int) -> Response:
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate={max_age * 10}",
        "Vary": "Accept-Encoding",
    }
    sent = next((v for k, v in request.scope["headers"] if k == b"if-none-match"), None)
    if sent is not None and not_modified(sent, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=_JSON, headers=headers)


async def _from_cache(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    key: str,
    build: Callable[[], Awaitable[bytes]],
) -> Response:
    """The cached bytes under `key` (built on a miss), with their ETag; 304 when matched."""
    raw_key = (request.scope["path"], request.scope["query_string"])
    hit = await gallery_cache.get(db, key, build, raw_key)
    return _cached_response(request, hit.body, hit.etag, settings.gallery_cache_seconds)


class CachedGalleryRoute(APIRoute):
    """Answers fresh cache hits before FastAPI validates parameters and solves dependencies
    (measured: about 4x the requests/s); anything else takes the route's usual way."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def serve(request: Request) -> Response:
            cached = gallery_cache.fresh((request.scope["path"], request.scope["query_string"]))
            if cached is None:
                return await handler(request)
            max_age: int = request.app.state.settings.gallery_cache_seconds
            return _cached_response(request, cached.body, cached.etag, max_age)

        return serve


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
    key = f"{request.url.path}|{category}|{account}|{featured_only}|{limit}|{offset}"

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
            page = GalleryPage(
                items=[public_post(p, settings.public_base_url) for p in posts],
                total=total,
                limit=limit,
                offset=offset,
                next_offset=next_offset(offset, limit, total),
            )
        return page.model_dump_json().encode()

    return await _from_cache(request, db, settings, key, build)


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

    return await _from_cache(request, db, settings, request.url.path, build)


for _path, _endpoint, _responses in (
    ("/gallery", gallery, GALLERY_RESPONSES),
    ("/gallery/featured", featured, GALLERY_RESPONSES),
    ("/gallery/categories", categories, CATEGORIES_RESPONSES),
):
    public.add_api_route(
        _path, _endpoint, response_class=Response, responses=_responses,
        route_class_override=CachedGalleryRoute,
    )  # fmt: skip


@public.get(
    "/posts/{post_id}",
    response_model=AdminPost | PublicPost,
    responses={**UNAUTHORIZED, **NOT_FOUND},
)
async def get_post(
    post_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    key: OptionalKey,
) -> AdminPost | PublicPost:
    """A post. Without a key: public posts only, public shape. With a key: any post, admin shape."""
    post = await service.get_post(session, post_id, public=key is None)
    if key is not None:
        check_account(key, post.account_id, f"post {post_id}")
        return admin_post(post, settings.public_base_url)
    return public_post(post, settings.public_base_url)


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
    limit: int = Query(50, ge=1, le=100),
    offset: int = Query(0, ge=0),
) -> AdminPostPage:
    """All posts with moderation details; `status=pending` is the moderation queue."""
    posts, total = await service.admin_posts(
        session, status=status, category=category, featured=featured, account=account,
        search=q, deleted=deleted, limit=limit, offset=offset, account_ids=key_accounts(key),
    )  # fmt: skip
    return AdminPostPage(
        items=[admin_post(p, settings.public_base_url) for p in posts],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=next_offset(offset, limit, total),
    )
