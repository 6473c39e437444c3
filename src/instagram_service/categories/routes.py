"""Admin API of the managed category list (the console's categories page uses the service)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from instagram_service.apikeys.auth import GlobalAdminKey, ReadKey
from instagram_service.categories import service
from instagram_service.categories.schemas import CategoryIn, CategoryList, CategoryOut
from instagram_service.deps import IdPath, SessionDep
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND

router = APIRouter(prefix="/api/v1/categories", tags=["categories"], responses=ADMIN_ERRORS)


async def _out(session: SessionDep) -> CategoryList:
    used = await service.usage(session)
    return CategoryList(
        items=[
            CategoryOut(id=row.id, name=row.name, posts=used[row.name][0], rules=used[row.name][1])
            for row in await service.list_categories(session)
        ]
    )


@router.get("", response_model=CategoryList)
async def list_categories(session: SessionDep, _: ReadKey) -> CategoryList:
    """The managed categories, by name, with how many posts and rules use each."""
    return await _out(session)


@router.post("", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, session: SessionDep, _: GlobalAdminKey) -> CategoryOut:
    """Add a category that posts and rules may then use."""
    return CategoryOut.model_validate(await service.create_category(session, body.name))


@router.patch("/{category_id}", response_model=CategoryOut, responses=NOT_FOUND)
async def rename_category(
    category_id: IdPath, body: CategoryIn, session: SessionDep, _: GlobalAdminKey
) -> CategoryOut:
    """Rename a category; its posts and rules follow."""
    return CategoryOut.model_validate(
        await service.rename_category(session, category_id, body.name)
    )


@router.delete("/{category_id}", status_code=204, responses=NOT_FOUND)
async def delete_category(category_id: IdPath, session: SessionDep, _: GlobalAdminKey) -> Response:
    """Delete a category; its posts move to `general` (refused while a rule uses it)."""
    await service.delete_category(session, category_id)
    return Response(status_code=204)
