"""What the admin routes share: offset pagination and the documented error responses."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.deps import MAX_ID
from instagram_service.posts.schemas import Page, next_offset

T = TypeVar("T")
PageT = TypeVar("PageT", bound=Page)

# The admin lists' parameters: out of range is a 422 (offset capped so that the database
# never sees an integer it cannot hold).
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]


async def paginate(
    session: AsyncSession,
    query: Select[T],
    page: type[PageT],
    item: type[BaseModel],
    *,
    limit: int,
    offset: int,
) -> PageT:
    """One page of an ordered `select(Model)`, its rows as `item`s, with the total of all its
    rows counted in SQL."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(limit).offset(offset))
    return page(
        items=[item.model_validate(row) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
        next_offset=next_offset(offset, limit, total or 0),
    )


class ErrorOut(BaseModel):
    """The body of every error the service raises (`ServiceError`, rendered in app.py)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "post 7 not found"}]})

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(examples=[["query", "limit"]])
    msg: str = Field(examples=["Input should be less than or equal to 100"])
    type: str = Field(examples=["less_than_equal"])


class ValidationErrorOut(BaseModel):
    """Invalid parameters or body: one issue per problem, or a message from the service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["query", "limit"],
                            "msg": "Input should be less than or equal to 100",
                            "type": "less_than_equal",
                        }
                    ]
                }
            ]
        }
    )

    detail: list[ValidationIssue] | str


def example_content(value: object, media_type: str = "application/json") -> dict[str, Any]:
    """An example for a response that has no Pydantic model (text, hand-made JSON)."""
    return {"content": {media_type: {"example": value}}}


def _error(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _error(ErrorOut, "Missing, invalid or revoked API key")
}
# Applied to every admin router (`APIRouter(responses=ADMIN_ERRORS)`).
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **UNAUTHORIZED,
    403: _error(ErrorOut, "The key's scope does not allow this route (a read key on a change)"),
    422: _error(ValidationErrorOut, "Invalid parameters or body"),
}
# On the routes with an id in their path.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error(ErrorOut, "Unknown id")}
