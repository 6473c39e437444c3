"""Offset pagination, one way for every list: one `Page` shape, one `paginate`, one rule for
`limit`/`offset` (out of range is a 422; the offset is capped so that the database never sees
an integer it cannot hold)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar, get_args

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

# Ids are 32-bit on PostgreSQL, and SQLite overflows past 64 bits: larger ones are a 422,
# not a driver error (500).
MAX_ID = 2_147_483_647

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]


def _page_example(schema: JsonDict, cls: type[Any]) -> None:
    """A page's example: one page holding its item's example."""
    field = getattr(cls, "model_fields", {}).get("items")
    if field is None:
        return
    (item,) = get_args(field.annotation)
    extra = getattr(item, "model_config", {}).get("json_schema_extra")
    item_examples = extra.get("examples") if isinstance(extra, dict) else None
    schema["examples"] = [
        {
            "items": list(item_examples or [])[:1],
            "total": 1,
            "limit": 50,
            "offset": 0,
            "next_offset": None,
        }
    ]


class Page(BaseModel):
    """Every list's shape: `items` of one page, the `total` of all, and where the next starts."""

    model_config = ConfigDict(json_schema_extra=_page_example)

    total: int = Field(examples=[61])
    limit: int = Field(examples=[24])
    offset: int = Field(examples=[0])
    next_offset: int | None = Field(None, description="null on the last page", examples=[24])


PageT = TypeVar("PageT", bound=Page)


def next_offset(offset: int, limit: int, total: int) -> int | None:
    return offset + limit if offset + limit < total else None


def page_of(
    page: type[PageT], items: Sequence[Any], total: int, *, limit: int, offset: int
) -> PageT:
    """A page of items already made (e.g. posts in their public or admin shape)."""
    return page(
        items=list(items),
        total=total,
        limit=limit,
        offset=offset,
        next_offset=next_offset(offset, limit, total),
    )


async def count(session: AsyncSession, query: Select[Any]) -> int:
    """How many rows an (ordered or not) select matches, counted in SQL."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return total or 0


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
    total = await count(session, query)
    rows = await session.scalars(query.limit(limit).offset(offset))
    items = [item.model_validate(row) for row in rows]
    return page_of(page, items, total, limit=limit, offset=offset)
