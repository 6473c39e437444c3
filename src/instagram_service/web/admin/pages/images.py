"""Thumbnails of any post for the console (the public image routes serve public posts only)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.media.routes import VARIANT, serve_or_redownload
from instagram_service.moderation.service import get_post
from instagram_service.web.admin.console import Viewer

router = APIRouter()


@router.get("/admin/images/{post_id}/{variant}")
async def admin_image(
    request: Request,
    db: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    console: Viewer,
    post_id: IdPath,
    variant: str = Path(pattern=VARIANT),
) -> Response:
    post = await get_post(db, post_id, console.account_ids)
    response = await serve_or_redownload(request, settings, database, post, variant, None)
    response.headers["Cache-Control"] = "private, max-age=300"  # not for shared caches
    return response
