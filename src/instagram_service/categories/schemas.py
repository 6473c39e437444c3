from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from instagram_service.kit.openapi import examples

# Lower-case slugs: they appear in gallery URLs (`?category=`) and in the widget's attributes.
CategoryName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$"),
]


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CategoryName = Field(examples=["bridal"])


class CategoryOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples({"id": 7, "name": "bridal", "posts": 4, "rules": 1}),
    )

    id: int
    name: str
    posts: int = Field(0, description="Not-deleted posts in this category.")
    rules: int = Field(0, description="Rules that categorise into it.")


class CategoryList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"items": [{"id": 1, "name": "before_after", "posts": 12, "rules": 0}]}
        )
    )

    items: list[CategoryOut]
