"""The console's router, its static files, and how service errors look on its pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from instagram_service.errors import ServiceError
from instagram_service.web.admin.console import LoginRequired
from instagram_service.web.admin.pages import (
    accounts,
    categories,
    feeds,
    images,
    jobs,
    keys,
    login,
    moderation,
    rules,
    webhooks,
)
from instagram_service.web.admin.render import HERE, page, safe_next

router = APIRouter(include_in_schema=False)
for module in (login, images, moderation, accounts, jobs, rules, categories, webhooks, keys, feeds):
    router.include_router(module.router)

HEADINGS = {403: "Not allowed", 404: "Not found", 409: "Cannot do that", 422: "Check the input"}


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")


def is_console(request: Request) -> bool:
    return request.url.path == "/admin" or request.url.path.startswith("/admin/")


def error_page(request: Request, exc: ServiceError) -> Response:
    """A service error on a console page: a login redirect, JSON for scripts, else HTML."""
    if isinstance(exc, LoginRequired):
        if request.method == "GET":
            return RedirectResponse(exc.location, status_code=303)
    wants_json = "application/json" in request.headers.get("accept", "") or request.headers.get(
        "content-type", ""
    ).startswith("application/json")
    if wants_json:
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    referer = request.headers.get("referer", "")
    path = referer.split(request.headers.get("host", "") or "\0", 1)[-1] if referer else ""
    return page(
        request,
        "error.html",
        None,
        status=exc.status_code,
        heading=HEADINGS.get(exc.status_code, "Something went wrong"),
        message=exc.message,
        back_to=safe_next(path),
        status_code=exc.status_code,
    )
