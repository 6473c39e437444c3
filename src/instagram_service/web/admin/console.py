"""Who is using the console: the dependencies every page and every change goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.apikeys.service import Scope
from instagram_service.deps import SessionDep, SettingsDep
from instagram_service.errors import Forbidden, ServiceError
from instagram_service.models import ApiKey
from instagram_service.web.admin import csrf
from instagram_service.web.admin.session import AdminSession, read_session


class LoginRequired(ServiceError):
    """Rendered as a redirect to the login page (app.py's handler for /admin paths)."""

    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__("log in first")
        self.location = f"/admin/login?next={quote(next_path, safe='/')}"


@dataclass(frozen=True)
class Console:
    session: AdminSession
    key: ApiKey

    @property
    def can_change(self) -> bool:
        return self.key.scope == Scope.ADMIN

    @property
    def account_ids(self) -> list[int] | None:
        """A scoped key's accounts (None: all)."""
        return self.key.account_ids

    @property
    def is_global(self) -> bool:
        """An unscoped admin key: may manage keys, webhooks, rules and categories."""
        return self.can_change and self.key.account_ids is None

    @property
    def csrf(self) -> str:
        return self.session.csrf


async def _load(request: Request, db: AsyncSession, settings: SettingsDep) -> Console:
    session = read_session(request, settings)
    key = await db.get(ApiKey, session.key_id) if session and session.key_id else None
    if session is None or key is None or key.revoked_at is not None:
        raise LoginRequired(request.url.path)
    if session.ended_by(key.sessions_ended_at):  # logged out since (maybe elsewhere)
        raise LoginRequired(request.url.path)
    return Console(session, key)


async def viewer(request: Request, db: SessionDep, settings: SettingsDep) -> Console:
    """Any logged-in key (read or admin)."""
    return await _load(request, db, settings)


async def _checked(request: Request, db: SessionDep, settings: SettingsDep) -> Console:
    console = await _load(request, db, settings)
    form = await request.form() if _is_form(request) else None
    token = form.get(csrf.FIELD) if form is not None else None
    csrf.check(request, console.session, token if isinstance(token, str) else None)
    return console


async def editor(console: Annotated[Console, Depends(_checked)]) -> Console:
    """A change: same-origin, CSRF token, and an admin key (a read key is refused)."""
    if not console.can_change:
        raise Forbidden("this key has the read scope: it can look but not change")
    return console


async def global_viewer(console: Annotated[Console, Depends(viewer)]) -> Console:
    """Pages about every account at once (keys, webhooks, rule editing): unscoped admins."""
    if not console.is_global:
        raise Forbidden("only an admin key that is not limited to some accounts sees this page")
    return console


async def global_editor(console: Annotated[Console, Depends(editor)]) -> Console:
    if not console.is_global:
        raise Forbidden("a key scoped to accounts cannot change settings shared by all accounts")
    return console


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


Viewer = Annotated[Console, Depends(viewer)]
Editor = Annotated[Console, Depends(editor)]
GlobalViewer = Annotated[Console, Depends(global_viewer)]
GlobalEditor = Annotated[Console, Depends(global_editor)]
