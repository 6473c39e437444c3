from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from instagram_service.accounts import oauth, service
from instagram_service.accounts.schemas import AccountCreate, AccountOut, AccountUpdate
from instagram_service.apikeys.auth import AdminKey, ReadKey
from instagram_service.db import after_commit
from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.errors import BadRequest
from instagram_service.media_cleanup import remove_media_files
from instagram_service.runtime import get_runtime

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


@router.get("", response_model=list[AccountOut])
async def list_accounts(session: SessionDep, _: ReadKey) -> list[AccountOut]:
    """List connected accounts."""
    return [AccountOut.model_validate(a) for a in await service.list_accounts(session)]


@router.post("", response_model=AccountOut, status_code=201)
async def add_account(body: AccountCreate, session: SessionDep, _: AdminKey) -> AccountOut:
    """Connect an account with a long-lived token; its profile is read from `/me`."""
    runtime = get_runtime()
    account, _created = await service.connect_account(
        session, runtime.client, runtime.cipher, body.access_token
    )
    return AccountOut.model_validate(account)


@router.get("/connect", response_class=RedirectResponse, status_code=307)
async def connect(settings: SettingsDep, _: AdminKey) -> RedirectResponse:
    """Start Business Login for Instagram: redirects to Instagram's authorize page."""
    return RedirectResponse(oauth.authorize_url(settings), status_code=307)


@router.get("/callback", response_model=AccountOut)
async def callback(
    session: SessionDep,
    settings: SettingsDep,
    code: str | None = Query(None, max_length=2048),
    state: str | None = Query(None, max_length=256),
    error: str | None = Query(None, max_length=256),
    error_description: str | None = Query(None, max_length=1024),
) -> AccountOut:
    """Instagram's redirect after the user allowed (or refused) the connection."""
    if error:
        raise BadRequest(f"Instagram connection refused: {error_description or error}")
    if not code or not state:
        raise BadRequest("the callback needs `code` and `state`")
    oauth.check_state(settings, state)
    runtime = get_runtime()
    short = await runtime.client.exchange_code(code, settings.oauth_redirect_uri)
    long = await runtime.client.exchange_token(short.access_token)
    account, _created = await service.connect_account(
        session, runtime.client, runtime.cipher, long.access_token, expires_in=long.expires_in
    )
    return AccountOut.model_validate(account)


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(account_id: IdPath, session: SessionDep, _: ReadKey) -> AccountOut:
    """One account."""
    return AccountOut.model_validate(await service.get_account(session, account_id))


@router.patch("/{account_id}", response_model=AccountOut)
async def update_account(
    account_id: IdPath, body: AccountUpdate, session: SessionDep, _: AdminKey
) -> AccountOut:
    """Change sync settings, or deactivate (`is_active: false`)."""
    account = await service.update_account(session, account_id, **body.model_dump())
    return AccountOut.model_validate(account)


@router.delete("/{account_id}", status_code=204)
async def delete_account(account_id: IdPath, session: SessionDep, _: AdminKey) -> None:
    """Delete the account with all its posts and their files."""
    keys = await service.delete_account(session, account_id)
    after_commit(session, lambda: remove_media_files(get_runtime().settings, keys))
