"""Admin routes: content filters, decisions on posts, re-running the rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from instagram_service.apikeys.auth import AdminKey, GlobalAdminKey, ReadKey, key_accounts
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.errors import NotFound
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND
from instagram_service.kit.pagination import Limit, Offset, paginate
from instagram_service.moderation import service
from instagram_service.moderation.rerun import rerun_moderation
from instagram_service.moderation.rerun_status import (
    RUN_ID_PATTERN,
    RerunStatus,
    get_rerun,
    queue_rerun,
)
from instagram_service.moderation.schemas import (
    BulkModeration,
    BulkModerationOut,
    FilterCreate,
    FilterOut,
    FilterPage,
    FilterUpdate,
    PostPatch,
    RerunOut,
)
from instagram_service.posts.changes import public_state, record_admin_changes
from instagram_service.posts.schemas import AdminPost, admin_post

router = APIRouter(prefix="/api/v1", tags=["moderation"], responses=ADMIN_ERRORS)


@router.get("/filters", response_model=FilterPage)
async def list_filters(
    session: SessionDep, _: ReadKey, limit: Limit = 50, offset: Offset = 0
) -> FilterPage:
    """List content filters in the order they run (priority, then id)."""
    query = service.filters_query()
    return await paginate(session, query, FilterPage, FilterOut, limit=limit, offset=offset)


@router.post("/filters", response_model=FilterOut, status_code=201)
async def create_filter(body: FilterCreate, session: SessionDep, _: GlobalAdminKey) -> FilterOut:
    """Create a content filter (applies to new syncs; re-run the rules for existing posts)."""
    return FilterOut.model_validate(await service.create_filter(session, body))


@router.get("/filters/{filter_id}", response_model=FilterOut, responses=NOT_FOUND)
async def get_filter(filter_id: IdPath, session: SessionDep, _: ReadKey) -> FilterOut:
    """Get one content filter."""
    return FilterOut.model_validate(await service.get_filter(session, filter_id))


@router.patch("/filters/{filter_id}", response_model=FilterOut, responses=NOT_FOUND)
async def update_filter(
    filter_id: IdPath, body: FilterUpdate, session: SessionDep, _: GlobalAdminKey
) -> FilterOut:
    """Change some fields of a content filter."""
    return FilterOut.model_validate(await service.update_filter(session, filter_id, body))


@router.delete("/filters/{filter_id}", status_code=204, responses=NOT_FOUND)
async def delete_filter(filter_id: IdPath, session: SessionDep, _: GlobalAdminKey) -> Response:
    """Delete a content filter."""
    await service.delete_filter(session, filter_id)
    return Response(status_code=204)


@router.patch("/posts/{post_id}", response_model=AdminPost, responses=NOT_FOUND)
async def update_post(
    post_id: IdPath, body: PostPatch, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> AdminPost:
    """Set moderation fields by hand; the rules and later syncs leave them alone."""
    before = await public_state(session, [post_id])
    post = await service.update_post(session, post_id, body, key_accounts(key))
    await record_admin_changes(
        session, before, base_url=settings.public_base_url, media_url=settings.media_public_url
    )
    return admin_post(post, settings.public_base_url, media_url=settings.media_public_url)


@router.post("/posts/bulk-moderation", response_model=BulkModerationOut, responses=NOT_FOUND)
async def bulk_moderation(
    body: BulkModeration, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> BulkModerationOut:
    """Approve or reject posts by id, all or none: unknown ids give 404 and change nothing."""
    before = await public_state(session, body.ids)
    ids = await service.bulk_moderate(session, body.ids, body.action, key_accounts(key))
    await record_admin_changes(
        session, before, base_url=settings.public_base_url, media_url=settings.media_public_url
    )
    return BulkModerationOut(action=body.action, updated=len(ids), ids=ids)


@router.post("/posts/{post_id}/reset-moderation", response_model=AdminPost, responses=NOT_FOUND)
async def reset_moderation(
    post_id: IdPath, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> AdminPost:
    """Forget the admin's decisions on a post and apply the rules again now."""
    before = await public_state(session, [post_id])
    post = await service.reset_moderation(session, settings, post_id, key_accounts(key))
    await record_admin_changes(
        session, before, base_url=settings.public_base_url, media_url=settings.media_public_url
    )
    return admin_post(post, settings.public_base_url, media_url=settings.media_public_url)


@router.post(
    "/moderation/rerun",
    response_model=RerunOut | RerunStatus,
    responses={
        202: {
            "model": RerunStatus,
            "description": "With `Prefer: respond-async`: queued as a task; poll `Location`",
        }
    },
)
async def rerun(
    db: DatabaseDep,
    settings: SettingsDep,
    response: Response,
    _: GlobalAdminKey,
    prefer: Annotated[str | None, Header(description="`respond-async`: run it as a task")] = None,
) -> RerunOut | RerunStatus:
    """Apply the current rules to every post again (admin decisions are kept).

    With `Prefer: respond-async` the run is a task: 202 and a status record to poll at
    `GET /api/v1/moderation/rerun/{run_id}`. Otherwise it runs within the request.
    """
    if prefer is not None and "respond-async" in {p.strip().lower() for p in prefer.split(",")}:
        status = await queue_rerun(settings)
        response.status_code = 202
        response.headers["Location"] = f"/api/v1/moderation/rerun/{status.id}"
        return status
    result = await rerun_moderation(db, settings)
    return RerunOut(processed=result.processed, changed=result.changed)


@router.get("/moderation/rerun/{run_id}", response_model=RerunStatus, responses=NOT_FOUND)
async def rerun_status(
    run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN)], settings: SettingsDep, _: AdminKey
) -> RerunStatus:
    """Progress of a queued re-run of the rules (kept in memory, or a day in Redis)."""
    status = await get_rerun(settings, run_id)
    if status is None:
        raise NotFound(f"moderation rerun {run_id} not found")
    return status
