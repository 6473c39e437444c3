"""Categories as data: create, rename, delete (posts move to `general`)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from instagram_service.categories import service as categories
from instagram_service.categories.schemas import CategoryIn
from instagram_service.deps import IdPath, SessionDep
from instagram_service.errors import BadRequest
from instagram_service.models import FALLBACK_CATEGORY
from instagram_service.web.admin.console import GlobalEditor, Viewer
from instagram_service.web.admin.render import back, page

router = APIRouter()


def _name(raw: str) -> str:
    try:
        return CategoryIn(name=raw).name
    except ValidationError as exc:
        raise BadRequest(
            f"{raw!r} is not a category name: lower-case letters, digits, - and _ (32 at most)"
        ) from exc


@router.get("/admin/categories")
async def categories_page(request: Request, db: SessionDep, console: Viewer) -> Response:
    used = await categories.usage(db)
    rows = [(row, *used.get(row.name, (0, 0))) for row in await categories.list_categories(db)]
    return page(
        request, "categories.html", console, section="categories", title="Categories",
        rows=rows, fallback=FALLBACK_CATEGORY,
    )  # fmt: skip


@router.post("/admin/categories")
async def create(
    db: SessionDep, console: GlobalEditor, name: str = Form(max_length=64)
) -> Response:
    row = await categories.create_category(db, _name(name))
    return back("/admin/categories", f"Category {row.name!r} added.")


@router.post("/admin/categories/{category_id}/rename")
async def rename(
    category_id: IdPath, db: SessionDep, console: GlobalEditor, name: str = Form(max_length=64)
) -> Response:
    row = await categories.rename_category(db, category_id, _name(name))
    return back("/admin/categories", f"Renamed to {row.name!r}; its posts and rules follow.")


@router.post("/admin/categories/{category_id}/delete")
async def delete(category_id: IdPath, db: SessionDep, console: GlobalEditor) -> Response:
    moved = await categories.delete_category(db, category_id)
    return back(
        "/admin/categories", f"Category deleted; {moved} posts moved to {FALLBACK_CATEGORY!r}."
    )
