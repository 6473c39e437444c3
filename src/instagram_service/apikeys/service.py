from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import get_or_404, utcnow
from instagram_service.errors import BadRequest
from instagram_service.models import ApiKey, InstagramAccount
from instagram_service.security import hash_api_key, new_api_key


class Scope(StrEnum):
    ADMIN = "admin"
    READ = "read"


async def create_key(
    session: AsyncSession, *, name: str, scope: str, account_ids: Sequence[int] | None = None
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored.

    `account_ids`: the key sees and changes only these accounts (None: all of them)."""
    name = name.strip()
    if not name:
        raise BadRequest("a key needs a non-empty name")
    if scope not in Scope.__members__.values():
        raise BadRequest(f"unknown scope {scope!r}: use admin or read")
    scoped: list[int] | None = None
    if account_ids is not None:
        scoped = sorted(set(account_ids))
        if not scoped:
            raise BadRequest("a key scoped to accounts needs at least one account")
        found = set(
            await session.scalars(
                select(InstagramAccount.id).where(InstagramAccount.id.in_(scoped))
            )
        )
        if missing := [i for i in scoped if i not in found]:
            raise BadRequest(f"unknown accounts: {', '.join(map(str, missing))}")
    plain = new_api_key()
    key = ApiKey(
        name=name,
        scope=scope,
        prefix=plain[:10],
        key_hash=hash_api_key(plain),
        account_ids=scoped,
    )
    session.add(key)
    await session.flush()
    return key, plain


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()


async def revoke_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await get_or_404(session, ApiKey, key_id, "API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


async def find_active_key(session: AsyncSession, plain: str) -> ApiKey | None:
    # Lookup by the SHA-256 of the key: equal hashes are found by the index, so no
    # secret-dependent comparison of the key itself happens in Python.
    key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(plain)))
    if key is None or key.revoked_at is not None:
        return None
    return key
