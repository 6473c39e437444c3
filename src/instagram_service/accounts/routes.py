from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from instagram_service.accounts import oauth, service
from instagram_service.accounts.callback_page import callback_page, wants_html
from instagram_service.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountPage,
    AccountUpdate,
)
from instagram_service.apikeys.auth import (
    AdminKey,
    GlobalAdminKey,
    ReadKey,
    check_account,
    key_accounts,
)
from instagram_service.db import after_commit
from instagram_service.deps import ContainerDep, DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.errors import BadRequest, ServiceError
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND
from instagram_service.kit.pagination import Limit, Offset, paginate
from instagram_service.media.stores import remove_media_files
from instagram_service.models import InstagramAccount

admin = APIRouter(prefix="/api/v1/accounts", tags=["accounts"], responses=ADMIN_ERRORS)
# Instagram's redirect: no key (its single-use `state` is checked instead).
public = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
CALLBACK_PATH = "/api/v1/accounts/callback"


@admin.get("", response_model=AccountPage)
async def list_accounts(
    session: SessionDep, key: ReadKey, limit: Limit = 50, offset: Offset = 0
) -> AccountPage:
    """List connected accounts, oldest first (a scoped key: its accounts only)."""
    query = select(InstagramAccount).order_by(InstagramAccount.id)
    if (allowed := key_accounts(key)) is not None:
        query = query.where(InstagramAccount.id.in_(allowed))
    return await paginate(session, query, AccountPage, AccountOut, limit=limit, offset=offset)


@admin.post("", response_model=AccountOut, status_code=201)
async def add_account(
    body: AccountCreate, session: SessionDep, container: ContainerDep, _: GlobalAdminKey
) -> AccountOut:
    """Connect an account with a long-lived token; its profile is read from `/me`."""
    account, _created = await service.connect_account(
        session, container.client, container.cipher, body.access_token
    )
    return AccountOut.model_validate(account)


@admin.get("/connect", response_class=RedirectResponse, status_code=307)
async def connect(
    session: SessionDep, settings: SettingsDep, key: GlobalAdminKey
) -> RedirectResponse:
    """Start Business Login for Instagram: redirects to Instagram's authorize page; its
    `state` is good for one callback within 10 minutes."""
    url = await oauth.start_login(session, settings, owner=f"api-key:{key.id}")
    return RedirectResponse(url, status_code=307)


@public.get("/callback", response_model=AccountOut)
async def callback(
    request: Request,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
    container: ContainerDep,
    code: str | None = Query(None, max_length=2048),
    state: str | None = Query(None, max_length=256),
    error: str | None = Query(None, max_length=256),
    error_description: str | None = Query(None, max_length=1024),
) -> Response:
    """Instagram's redirect after the user allowed (or refused) the connection.

    Started from the admin console (its cookie holds this state): back to the console's
    accounts page. Otherwise the connected account: JSON for an API client, a page for a
    browser. A refused, reused, expired or foreign state stores nothing and says why."""
    from_console = bool(state) and request.cookies.get(oauth.BROWSER_STATE_COOKIE) == state
    if error:
        return _refuse(request, from_console, f"Instagram connection refused: "
                       f"{error_description or error}")  # fmt: skip
    if not code or not state:
        return _refuse(request, from_console, "the callback needs `code` and `state`")
    async with db.session() as own:  # its own unit of work: used up even if the rest fails
        try:
            owner = await oauth.take_state(own, state)
        except BadRequest as exc:
            return _refuse(request, from_console, exc.message)
    if owner.startswith(oauth.CONSOLE_OWNER) and not from_console:
        # A console's state belongs to the browser session that started it (its cookie).
        return _refuse(request, False, f"this OAuth state was started in another browser "
                       f"session: {oauth.START_AGAIN}")  # fmt: skip
    try:
        long = await oauth.exchange_login_code(container.client, code, settings.oauth_redirect_uri)
        account, _created = await service.connect_account(
            session, container.client, container.cipher, long.access_token,
            expires_in=long.expires_in,
        )  # fmt: skip
    except ServiceError as exc:  # a bad code, Instagram down: said where the browser is
        if not (from_console or wants_html(request)):
            raise
        await session.rollback()  # answered, not raised: nothing half-done may be committed
        return _refuse(request, from_console, exc.message)
    if from_console:
        return _to_console({"connected": account.username})
    if wants_html(request):
        return callback_page(
            "Account connected",
            f"@{account.username} is connected; its posts are synced in the background.",
            200,
        )
    return JSONResponse(AccountOut.model_validate(account).model_dump(mode="json"))


def _refuse(request: Request, from_console: bool, message: str) -> Response:
    """The console's browser goes back to the console with the reason; another browser gets
    a page; an API client a JSON 400."""
    if from_console:
        return _to_console({"connect_error": message})
    if wants_html(request):
        return callback_page("The account was not connected", message, 400)
    raise BadRequest(message)


def _to_console(query: dict[str, str]) -> Response:
    response = RedirectResponse(f"{oauth.CONSOLE_RETURN}?{urlencode(query)}", status_code=303)
    response.delete_cookie(oauth.BROWSER_STATE_COOKIE, path=CALLBACK_PATH)
    return response


@admin.get("/{account_id}", response_model=AccountOut, responses=NOT_FOUND)
async def get_account(account_id: IdPath, session: SessionDep, key: ReadKey) -> AccountOut:
    """One account."""
    check_account(key, account_id)
    return AccountOut.model_validate(await service.get_account(session, account_id))


@admin.patch("/{account_id}", response_model=AccountOut, responses=NOT_FOUND)
async def update_account(
    account_id: IdPath, body: AccountUpdate, session: SessionDep, key: AdminKey
) -> AccountOut:
    """Change sync settings, or deactivate (`is_active: false`)."""
    check_account(key, account_id)
    account = await service.update_account(session, account_id, **body.model_dump())
    return AccountOut.model_validate(account)


@admin.delete("/{account_id}", status_code=204, responses=NOT_FOUND)
async def delete_account(
    account_id: IdPath, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> None:
    """Delete the account with all its posts and their files."""
    check_account(key, account_id)
    keys = await service.delete_account(session, account_id)
    after_commit(session, lambda: remove_media_files(settings, keys))


router = APIRouter()
router.include_router(public)  # first: `/callback` is not an `/{account_id}`
router.include_router(admin)
