"""Jinja2 pages of the console: one environment, the layout's context, flash messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from instagram_service.web.admin.console import Console

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
FLASH = "igs_flash"

NAV = (
    ("moderation", "Moderation"),
    ("rules", "Rules"),
    ("accounts", "Accounts"),
    ("jobs", "Sync jobs"),
    ("feeds", "Feeds"),
    ("categories", "Categories"),
    ("webhooks", "Webhooks"),
    ("keys", "API keys"),
)


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (datetime.now(UTC) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in a moment" if future else "just now"


def _query(params: dict[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


templates.env.filters["ago"] = _ago
templates.env.globals["query"] = _query


def page(
    request: Request,
    name: str,
    console: Console | None,
    *,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    raw_flash = request.cookies.get(FLASH)
    flash = unquote(raw_flash) if raw_flash else None
    response = templates.TemplateResponse(
        request,
        name,
        {"console": console, "nav": NAV, "section": section, "flash": flash, **context},
        status_code=status_code,
    )
    if raw_flash:
        response.delete_cookie(FLASH, path="/admin")
    return response


def back(to: str, message: str | None = None) -> Response:
    """Post/redirect/get, with a one-time message for the next page."""
    response = RedirectResponse(safe_next(to), status_code=303)
    if message:
        response.set_cookie(FLASH, quote(message[:300]), max_age=60, path="/admin", httponly=True,
                            samesite="strict")  # fmt: skip
    return response


def safe_next(path: str | None, default: str = "/admin/moderation") -> str:
    """Only console paths: a `next` parameter must not send anyone to another site."""
    if not path or not path.startswith("/admin") or path.startswith("//") or "\\" in path:
        return default
    return path
