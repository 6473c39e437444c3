"""API keys: create (shown once), list, revoke; scope read/admin, and accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from instagram_service.accounts import service as accounts
from instagram_service.apikeys import service as keys
from instagram_service.deps import IdPath, SessionDep
from instagram_service.models import ApiKey
from instagram_service.web.admin.console import Console, GlobalEditor, Viewer
from instagram_service.web.admin.render import back, page

router = APIRouter()


async def _render(request: Request, db: SessionDep, console: Console, **extra: Any) -> Response:
    rows: list[ApiKey] = list(await keys.list_keys(db)) if console.is_global else []
    names = {a.id: a.username for a in await accounts.list_accounts(db)}
    return page(
        request, "keys.html", console, section="keys", title="API keys", keys=rows,
        names=names, **extra,
    )  # fmt: skip


@router.get("/admin/keys")
async def keys_page(request: Request, db: SessionDep, console: Viewer) -> Response:
    return await _render(request, db, console)


@router.post("/admin/keys")
async def create(request: Request, db: SessionDep, console: GlobalEditor) -> Response:
    form = await request.form()
    chosen = [int(v) for v in form.getlist("account_ids") if isinstance(v, str) and v.isdigit()]
    scoped = form.get("accounts") == "some"
    key, plain = await keys.create_key(
        db,
        name=str(form.get("name", ""))[:255],
        scope=str(form.get("scope", "read")),
        account_ids=chosen if scoped else None,
    )
    # Rendered, not redirected: the key must not travel in a URL or a cookie.
    return await _render(request, db, console, created=key, plain=plain)


@router.post("/admin/keys/{key_id}/revoke")
async def revoke(key_id: IdPath, db: SessionDep, console: GlobalEditor) -> Response:
    key = await keys.revoke_key(db, key_id)
    note = (
        " (that is the key of this session: you are logged out)" if key.id == console.key.id else ""
    )
    return back("/admin/keys", f"Key {key.name!r} revoked{note}.")
