from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from instagram_service.apikeys import service
from instagram_service.apikeys.auth import GlobalAdminKey
from instagram_service.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyPage
from instagram_service.deps import IdPath, SessionDep
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND
from instagram_service.kit.pagination import Limit, Offset, paginate
from instagram_service.models import ApiKey

router = APIRouter(prefix="/api/v1/keys", tags=["api keys"], responses=ADMIN_ERRORS)


@router.get("", response_model=ApiKeyPage)
async def list_keys(
    session: SessionDep, _: GlobalAdminKey, limit: Limit = 50, offset: Offset = 0
) -> ApiKeyPage:
    """List API keys, oldest first (never the keys themselves)."""
    query = select(ApiKey).order_by(ApiKey.id)
    return await paginate(session, query, ApiKeyPage, ApiKeyOut, limit=limit, offset=offset)


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_key(body: ApiKeyCreate, session: SessionDep, _: GlobalAdminKey) -> ApiKeyCreated:
    """Create an API key; the key is in this response only."""
    key, plain = await service.create_key(
        session, name=body.name, scope=body.scope, account_ids=body.account_ids
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=plain)


@router.delete("/{key_id}", response_model=ApiKeyOut, responses=NOT_FOUND)
async def revoke_key(key_id: IdPath, session: SessionDep, _: GlobalAdminKey) -> ApiKeyOut:
    """Revoke an API key."""
    return ApiKeyOut.model_validate(await service.revoke_key(session, key_id))
