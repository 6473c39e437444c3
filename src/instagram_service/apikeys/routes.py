from __future__ import annotations

from fastapi import APIRouter

from instagram_service.apikeys import service
from instagram_service.apikeys.auth import AdminKey
from instagram_service.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from instagram_service.deps import IdPath, SessionDep

router = APIRouter(prefix="/api/v1/keys", tags=["api keys"])


@router.get("", response_model=list[ApiKeyOut])
async def list_keys(session: SessionDep, _: AdminKey) -> list[ApiKeyOut]:
    """List API keys (never the keys themselves)."""
    return [ApiKeyOut.model_validate(k) for k in await service.list_keys(session)]


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_key(body: ApiKeyCreate, session: SessionDep, _: AdminKey) -> ApiKeyCreated:
    """Create an API key; the key is in this response only."""
    key, plain = await service.create_key(session, name=body.name, scope=body.scope)
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=plain)


@router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_key(key_id: IdPath, session: SessionDep, _: AdminKey) -> ApiKeyOut:
    """Revoke an API key."""
    return ApiKeyOut.model_validate(await service.revoke_key(session, key_id))
