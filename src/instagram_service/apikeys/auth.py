"""Bearer API key dependencies: `ReadKey` for admin reads, `AdminKey` for changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from instagram_service.apikeys.service import Scope, find_active_key
from instagram_service.db import utcnow
from instagram_service.deps import SessionDep
from instagram_service.errors import Forbidden, NotFound, Unauthorized
from instagram_service.models import ApiKey

LAST_USED_RESOLUTION = timedelta(minutes=5)

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer igs_...`")


async def _authenticate(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    key = await find_active_key(session, credentials.credentials)
    if key is None:
        raise Unauthorized("invalid or revoked API key")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now  # coarse, so that reads do not write on every request
    return key


async def optional_key(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey | None:
    """No credentials: anonymous (None). Credentials given: they must be valid."""
    if credentials is None:
        return None
    return await _authenticate(session, credentials)


async def require_read(key: Annotated[ApiKey, Depends(_authenticate)]) -> ApiKey:
    return key


async def require_admin(key: Annotated[ApiKey, Depends(_authenticate)]) -> ApiKey:
    if key.scope != Scope.ADMIN:
        raise Forbidden("this route needs an admin key; this key has the read scope")
    return key


async def require_global_admin(key: Annotated[ApiKey, Depends(require_admin)]) -> ApiKey:
    if key.account_ids is not None:
        raise Forbidden(
            "this route changes every account's settings: a key scoped to accounts cannot use it"
        )
    return key


def key_accounts(key: ApiKey | None) -> list[int] | None:
    """The accounts a key may see (None: all of them, or no key at all)."""
    return None if key is None else key.account_ids


def check_account(key: ApiKey | None, account_id: int, what: str = "account") -> None:
    """Out of a scoped key's accounts is a 404, as if it did not exist (nothing leaks)."""
    allowed = key_accounts(key)
    if allowed is not None and account_id not in allowed:
        raise NotFound(f"{what} not found")


ReadKey = Annotated[ApiKey, Depends(require_read)]
AdminKey = Annotated[ApiKey, Depends(require_admin)]
# Admin routes about every account at once: keys, webhooks, rules, categories, new accounts.
GlobalAdminKey = Annotated[ApiKey, Depends(require_global_admin)]
OptionalKey = Annotated[ApiKey | None, Depends(optional_key)]
