"""Request and response shapes: content filters, admin post decisions, re-runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from instagram_service.categories.schemas import CategoryName
from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import MAX_ID, Page
from instagram_service.models import ContentFilter
from instagram_service.moderation.seed_names import categorize_from_seed, seed_output
from instagram_service.moderation.text import clean_hashtag, phrase

MAX_ITEM_CHARS = 100


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = [clean_hashtag(tag) for tag in tags]
    if too_long := [tag for tag in cleaned if len(tag) > MAX_ITEM_CHARS]:
        raise ValueError(f"hashtag {too_long[0]!r} is longer than {MAX_ITEM_CHARS} characters")
    return list(dict.fromkeys(cleaned))


def _clean_keywords(keywords: list[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for raw in keywords:
        keyword = " ".join(raw.split())
        if len(keyword) > MAX_ITEM_CHARS:
            raise ValueError(f"keyword {keyword!r} is longer than {MAX_ITEM_CHARS} characters")
        needle = phrase(keyword)
        if not needle:
            raise ValueError(f"keyword {raw!r} has no letters, digits or emoji")
        cleaned.setdefault(needle, keyword)
    return list(cleaned.values())


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Hashtags = Annotated[list[str], Field(max_length=500), AfterValidator(_clean_tags)]
Keywords = Annotated[list[str], Field(max_length=500), AfterValidator(_clean_keywords)]
MinLikes = Annotated[int, Field(ge=0, le=2_000_000_000)]
MinRate = Annotated[float, Field(ge=0, allow_inf_nan=False, description="Percent: 2.5 = 2.5 %.")]
Description = Annotated[str, Field(max_length=2000)]

_FORBID = ConfigDict(extra="forbid")


def _reject_null(value: Any) -> Any:
    """For optional PATCH fields that may be omitted but not set to null."""
    if value is None:
        raise ValueError("may not be null")
    return value


class FilterCreate(BaseModel):
    model_config = _FORBID

    name: Name = Field(examples=["No competitors"])
    description: Description | None = None
    is_active: bool = True
    priority: int = Field(100, ge=0, le=1_000_000, description="Lower runs first; ties by id.")
    blacklist_hashtags: Hashtags = Field(
        default_factory=list,
        examples=[["#cheap"]],
        validation_alias=AliasChoices("hashtag_blacklist", "blacklist_hashtags"),
    )
    whitelist_hashtags: Hashtags = Field(
        default_factory=list,
        validation_alias=AliasChoices("hashtag_whitelist", "whitelist_hashtags"),
    )
    blacklist_keywords: Keywords = Field(
        default_factory=list,
        description="Keywords that reject a post.",
        validation_alias=AliasChoices("content_keywords", "blacklist_keywords"),
    )
    keywords: Keywords = Field(default_factory=list, examples=[["how to", "tutorial"]])
    min_likes: MinLikes | None = None
    min_engagement_rate: MinRate | None = None
    auto_approve: bool = False
    auto_feature: bool = False
    auto_categorize: bool | CategoryName | None = Field(
        False, description="The category to file matching posts under (null: none)."
    )
    category: CategoryName | None = None

    _seed_categorize = model_validator(mode="before")(categorize_from_seed)

    @model_validator(mode="after")
    def _category_for_auto_categorize(self) -> FilterCreate:
        if self.auto_categorize and self.category is None:
            raise ValueError("auto_categorize needs a category")
        return self


_NOT_NULL = (
    "name",
    "is_active",
    "priority",
    "blacklist_hashtags",
    "whitelist_hashtags",
    "blacklist_keywords",
    "keywords",
    "auto_approve",
    "auto_feature",
)


class FilterUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = _FORBID

    name: Name | None = None
    description: Description | None = None
    is_active: bool | None = None
    priority: int | None = Field(None, ge=0, le=1_000_000)
    blacklist_hashtags: Hashtags | None = Field(
        None, validation_alias=AliasChoices("hashtag_blacklist", "blacklist_hashtags")
    )
    whitelist_hashtags: Hashtags | None = Field(
        None, validation_alias=AliasChoices("hashtag_whitelist", "whitelist_hashtags")
    )
    blacklist_keywords: Keywords | None = Field(
        None, validation_alias=AliasChoices("content_keywords", "blacklist_keywords")
    )
    keywords: Keywords | None = None
    min_likes: MinLikes | None = None
    min_engagement_rate: MinRate | None = None
    auto_approve: bool | None = None
    auto_feature: bool | None = None
    auto_categorize: bool | CategoryName | None = None
    category: CategoryName | None = None

    _seed_categorize = model_validator(mode="before")(categorize_from_seed)
    _not_null = field_validator(*_NOT_NULL, mode="before")(_reject_null)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class FilterOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples(
            {
                "id": 2,
                "name": "portfolio tags",
                "description": "Feature and file our own work",
                "is_active": True,
                "priority": 10,
                "hashtag_blacklist": [],
                "hashtag_whitelist": [],
                "content_keywords": ["giveaway"],
                "keywords": ["glaze", "kiln"],
                "min_likes": 20,
                "min_engagement_rate": None,
                "auto_approve": True,
                "auto_feature": False,
                "auto_categorize": "portfolio",
                "category": "portfolio",
                "created_at": "2024-04-01T08:00:00Z",
                "updated_at": "2024-04-03T12:30:00Z",
            }
        ),
    )

    id: int
    name: str
    description: str | None
    is_active: bool
    priority: int
    hashtag_blacklist: list[str]
    hashtag_whitelist: list[str]
    content_keywords: list[str] = Field(description="Keywords that reject a post.")
    keywords: list[str] = Field(description="Caption keywords that make the rule match.")
    min_likes: int | None
    min_engagement_rate: float | None
    auto_approve: bool
    auto_feature: bool
    auto_categorize: str | None = Field(description="The category matching posts get, or null.")
    category: str | None
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        return seed_output(data) if isinstance(data, ContentFilter) else data


class FilterPage(Page):
    items: list[FilterOut]


class PostPatch(BaseModel):
    """Admin decisions; each moderation field given here sticks until a reset."""

    model_config = _FORBID

    is_approved: bool | None = Field(None, description="null: back to pending review.")
    is_featured: bool | None = None
    gallery_category: CategoryName | None = None
    display_order: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    alt_text: str | None = Field(None, max_length=1000)

    _not_null = field_validator("is_featured", "gallery_category", "display_order", mode="before")(
        _reject_null
    )

    @model_validator(mode="after")
    def _not_empty(self) -> PostPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one field")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class BulkModeration(BaseModel):
    model_config = _FORBID

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=1000)
    action: Literal["approve", "reject"]


class BulkModerationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"action": "approve", "updated": 3, "ids": [12, 14, 15]})
    )

    action: Literal["approve", "reject"]
    updated: int
    ids: list[int]


class RerunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"processed": 61, "changed": 4}))

    processed: int = Field(description="Posts the rules were applied to (not deleted ones).")
    changed: int = Field(description="Posts whose automatic fields changed.")
