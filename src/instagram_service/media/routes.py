"""Image routes: content-hashed files with long cache lifetimes, public posts only."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse

from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.errors import NotFound
from instagram_service.media.storage import LocalStorage
from instagram_service.models import InstagramPost, PostMedia
from instagram_service.posts.service import get_post

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


def _serve(
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
    storage = LocalStorage(settings.media_root, accel_prefix=settings.media_accel_redirect_prefix)
    accel = storage.accel_redirect(key)
    if accel is not None:  # nginx serves the file (scaled mode)
        return Response(headers={**headers, "X-Accel-Redirect": accel}, media_type=media_type)
    path = storage.path(key)
    if not path.is_file():
        raise NotFound("the image file is missing from storage")
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get("/images/{post_id}/{variant}", response_class=Response, responses=IMAGE_RESPONSES)
async def post_image(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    post_id: IdPath,
    variant: str = Path(pattern=VARIANT),
    v: str | None = Query(None, max_length=64, pattern=r"^[0-9a-f]*$"),
) -> Response:
    """A post's image (a video's cover) in one variant."""
    post = await get_post(session, post_id, public=True)
    return _serve(request, settings, post, variant, v)


@router.get(
    "/images/{post_id}/{index}/{variant}", response_class=Response, responses=IMAGE_RESPONSES
)
async def child_image(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
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
    return _serve(request, settings, child, variant, v)
