"""Accounts: state, tokens, syncs; connect (Business Login), pause, sync now, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from instagram_service.accounts import oauth
from instagram_service.accounts import service as accounts
from instagram_service.accounts.routes import CALLBACK_PATH
from instagram_service.db import after_commit, utcnow
from instagram_service.deps import ContainerDep, IdPath, SessionDep, SettingsDep
from instagram_service.errors import Forbidden, NotFound
from instagram_service.media.stores import remove_media_files
from instagram_service.models import InstagramAccount, SyncJob, SyncType
from instagram_service.sync import service as sync
from instagram_service.web.admin.console import Console, Editor, GlobalEditor, Viewer
from instagram_service.web.admin.pages.moderation import scoped_accounts
from instagram_service.web.admin.render import back, page

router = APIRouter()


@dataclass
class AccountRow:
    account: InstagramAccount
    posts: int
    usage_pct: float
    active_job: SyncJob | None

    @property
    def state(self) -> str:
        if self.account.needs_reauth:
            return "needs reconnection"
        if not self.account.is_active:
            return "deactivated"
        return "active" if self.account.auto_sync else "paused"

    @property
    def token_days(self) -> int | None:
        expires = self.account.token_expires_at
        return None if expires is None else (expires - utcnow()).days

    @property
    def next_sync(self) -> datetime | None:
        a = self.account
        if not a.auto_sync or not a.is_active or a.needs_reauth:
            return None
        due = (a.last_sync_at or utcnow()) + timedelta(minutes=a.sync_frequency_minutes)
        return max(due, a.sync_blocked_until) if a.sync_blocked_until else due


async def _account(db: SessionDep, console: Console, account_id: int) -> InstagramAccount:
    if console.account_ids is not None and account_id not in console.account_ids:
        raise NotFound(f"account {account_id} not found")
    return await accounts.get_account(db, account_id)


@router.get("/admin/accounts")
async def accounts_page(
    request: Request,
    db: SessionDep,
    container: ContainerDep,
    console: Viewer,
    connected: str = "",
    connect_error: str = "",
) -> Response:
    counts = await accounts.post_counts(db)
    active = await sync.active_jobs(db)
    limiter = container.client.limiter
    rows = [
        AccountRow(
            account=a,
            posts=counts.get(a.id, 0),
            usage_pct=(await limiter.usage(a.instagram_user_id)).pct,
            active_job=active.get(a.id),
        )
        for a in await scoped_accounts(db, console)
    ]
    return page(
        request, "accounts.html", console, section="accounts", title="Accounts", rows=rows,
        connected=connected[:100], connect_error=connect_error[:300],
    )  # fmt: skip


@router.post("/admin/accounts/connect")
async def connect(
    request: Request, db: SessionDep, settings: SettingsDep, console: GlobalEditor
) -> Response:
    """Business Login from the browser: to Instagram's authorize page, back via the callback.
    The state is the session's (owner `console:<key id>`), and this browser's (the cookie)."""
    owner = f"{oauth.CONSOLE_OWNER}{console.key.id}"
    url = await oauth.start_login(db, settings, owner=owner)
    state = parse_qs(urlsplit(url).query)["state"][0]
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oauth.BROWSER_STATE_COOKIE,
        state,
        max_age=int(oauth.STATE_TTL.total_seconds()),
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/admin/accounts/{account_id}/auto-sync")
async def auto_sync(
    account_id: IdPath, db: SessionDep, console: Editor, enabled: bool = Form()
) -> Response:
    account = await _account(db, console, account_id)
    await accounts.update_account(db, account.id, auto_sync=enabled)
    verb = "resumed" if enabled else "paused"
    return back("/admin/accounts", f"Auto sync of @{account.username} {verb}.")


@router.post("/admin/accounts/{account_id}/sync")
async def sync_now(
    account_id: IdPath, db: SessionDep, console: Editor, walk: str = Form("incremental")
) -> Response:
    account = await _account(db, console, account_id)
    kind = SyncType.FULL if walk == "full" else SyncType.INCREMENTAL
    job, _created = await sync.trigger_sync(
        db, account, SyncType.MANUAL, full=kind == SyncType.FULL, queue=True
    )
    return RedirectResponse(f"/admin/jobs/{job.id}", status_code=303)


@router.get("/admin/accounts/{account_id}/delete")
async def confirm_delete(
    request: Request, account_id: IdPath, db: SessionDep, console: Viewer
) -> Response:
    if not console.can_change:
        raise Forbidden("this key has the read scope: it can look but not change")
    account = await _account(db, console, account_id)
    counts = await accounts.post_counts(db)
    return page(
        request, "account_delete.html", console, section="accounts",
        title=f"Delete @{account.username}", account=account, posts=counts.get(account.id, 0),
    )  # fmt: skip


@router.post("/admin/accounts/{account_id}/delete")
async def delete(
    account_id: IdPath, db: SessionDep, settings: SettingsDep, console: Editor
) -> Response:
    account = await _account(db, console, account_id)
    username = account.username
    keys = await accounts.delete_account(db, account.id)
    after_commit(db, lambda: remove_media_files(settings, keys))
    return back("/admin/accounts", f"@{username} deleted with its posts and image files.")
