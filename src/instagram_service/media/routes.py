"""Image routes: content-hashed files with long cache lifetimes, public posts only."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import update

from instagram_service.db import Database
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.errors import NotFound
from instagram_service.media.stores import media_storage
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia
from instagram_service.observability import get_logger
from instagram_service.posts.service import get_post

log = get_logger(__name__)

router = APIRouter(tags=["images"])

VARIANT = r"^(original|thumbnail|optimized|large)(\.avif)?$|^video$"
CONTENT_TYPES = {
    "webp": "image/webp",
    "avif": "image/avif",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "mpo": "image/jpeg",
    "heif": "image/heif",
    "mp4": "video/mp4",
}
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/webp": {}}, "description": "The image file."},
    304: {"description": "Not modified"},
    404: {"description": "Unknown, unapproved or deleted post, or no such variant"},
}


class FileMissing(NotFound):
    """The row names a file storage no longer has."""


async def _redownload(db: Database, row: InstagramPost | PostMedia) -> None:
    """Mark a row whose file is gone for download by the next sync (DESIGN: files are
    downloaded again when missing). Its other files stay shown meanwhile."""
    model: type[InstagramPost] | type[PostMedia] = type(row)
    post_id = row.id if isinstance(row, InstagramPost) else row.post_id
    async with db.session() as session:
        marked = await session.execute(
            update(model)
            .where(model.id == row.id, model.media_status == MediaStatus.READY)
            .values(media_status=MediaStatus.PENDING)
        )
        if getattr(marked, "rowcount", 0):  # retries anew: the engine skips spent posts
            await session.execute(
                update(InstagramPost).where(InstagramPost.id == post_id).values(sync_retry_count=0)
            )
            log.warning("image file missing from storage; marked for download", post_id=post_id)


async def serve_or_redownload(
    request: Request,
    settings: Any,
    db: Database,
    row: InstagramPost | PostMedia,
    variant: str,
    version: str | None,
) -> Response:
    try:
        return await _serve(request, settings, row, variant, version)
    except FileMissing:
        await _redownload(db, row)
        raise


async def _serve(
    request: Request,
    settings: Any,
    row: InstagramPost | PostMedia,
    variant: str,
    version: str | None,
) -> Response:
    entry = (row.variants or {}).get(variant)
    if not entry:
        raise NotFound(f"no {variant} image for this post")
    key = str(entry["key"])
    etag = f'"{re.sub(r"[^A-Za-z0-9_.-]", "", key.rsplit("/", 1)[-1])}"'
    immutable = bool(version) and (row.content_hash or "").startswith(version or "-")
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable"
        if immutable
        else "public, max-age=300",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    media_type = CONTENT_TYPES.get(str(entry.get("format", "webp")), "application/octet-stream")
    storage = media_storage(settings)
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise FileMissing("the image file is missing from storage")
        accel = storage.accel_redirect(key)
        if accel is not None and _proxy_sends_files(request):
            # nginx sends the file; to anyone else this empty body would be a cached empty image.
            return Response(headers={**headers, "X-Accel-Redirect": accel}, media_type=media_type)
        return FileResponse(path, media_type=media_type, headers=headers)
    # A bucket without IGS_MEDIA_PUBLIC_URL: streamed through (the README says why not a
    # redirect to a presigned URL).
    try:
        size, chunks = await storage.open(key)
    except FileNotFoundError:
        raise FileMissing("the image file is missing from storage") from None
    headers["Content-Length"] = str(size)
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


def _proxy_sends_files(request: Request) -> bool:
    """The request came through a proxy that handles X-Accel-Redirect (deploy/nginx.conf sets
    the header, as Rack's X-Sendfile convention does); without it the API sends the bytes."""
    return request.headers.get("x-sendfile-type", "").lower() == "x-accel-redirect"


@router.get("/images/{post_id}/{variant}", response_class=Response, responses=IMAGE_RESPONSES)
async def post_image(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    db: DatabaseDep,
    post_id: IdPath,
    variant: str = Path(pattern=VARIANT),
    v: str | None = Query(None, max_length=64, pattern=r"^[0-9a-f]*$"),
) -> Response:
    """A post's image (a video's cover) in one variant."""
    post = await get_post(session, post_id, public=True)
    return await serve_or_redownload(request, settings, db, post, variant, v)


@router.get(
    "/images/{post_id}/{index}/{variant}", response_class=Response, responses=IMAGE_RESPONSES
)
async def child_image(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    db: DatabaseDep,
    post_id: IdPath,
    index: int = Path(ge=0, le=20),
    variant: str = Path(pattern=VARIANT),
    v: str | None = Query(None, max_length=64, pattern=r"^[0-9a-f]*$"),
) -> Response:
    """One image of a carousel album, by its position (0-based)."""
    post = await get_post(session, post_id, public=True)
    child = next((c for c in post.children if c.position == index), None)
    if child is None:
        raise NotFound(f"post {post_id} has no image {index}")
    return await serve_or_redownload(request, settings, db, child, variant, v)


@router.get("/avatars/{account_id}", response_class=Response, responses=IMAGE_RESPONSES)
async def avatar(
    session: SessionDep,
    settings: SettingsDep,
    account_id: IdPath,
    v: str | None = Query(None, max_length=64, pattern=r"^[0-9a-f]*$"),
) -> Response:
    """An account's profile picture (160 px WebP), from our storage."""
    account = await session.get(InstagramAccount, account_id)
    if account is None or not account.avatar_key:
        raise NotFound(f"no profile picture for account {account_id}")
    current = account.avatar_key.rsplit("_", 1)[-1].split(".")[0]
    cache = "public, max-age=31536000, immutable" if v == current else "public, max-age=300"
    storage = media_storage(settings)
    path = storage.local_path(account.avatar_key)
    if path is None:  # a bucket: streamed through, as images are
        try:
            size, chunks = await storage.open(account.avatar_key)
        except FileNotFoundError:
            raise FileMissing("the profile picture is missing from storage") from None
        headers = {"Cache-Control": cache, "Content-Length": str(size)}
        return StreamingResponse(chunks, media_type="image/webp", headers=headers)
    if not path.is_file():
        raise FileMissing("the profile picture is missing from storage")
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": cache})
