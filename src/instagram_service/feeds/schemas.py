"""Feeds: the admin shapes, the display defaults the widget reads, and the public feed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import Page
from instagram_service.posts.schemas import PUBLIC_POST_EXAMPLE, PublicPost

Layout = Literal["grid", "masonry", "carousel", "highlight"]
Ordering = Literal["curated", "newest"]
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$"
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


class Columns(BaseModel):
    """Columns per breakpoint: phone (< 600 px), tablet (< 1024 px), desktop."""

    phone: int = Field(2, ge=1, le=6)
    tablet: int = Field(3, ge=1, le=8)
    desktop: int = Field(4, ge=1, le=12)


class Display(BaseModel):
    """How the widget and the embed page show the feed; each is overridable by an attribute."""

    model_config = ConfigDict(extra="forbid")

    layout: Layout = "grid"
    columns: Columns = Field(default_factory=Columns)
    gap: int = Field(8, ge=0, le=64, description="Pixels between tiles.")
    captions: bool = True
    counts: bool = True
    header: bool = True
    lightbox: bool = True
    page_size: int = Field(12, ge=1, le=100, description="Posts per page (Load more).")


def _origins(values: list[str]) -> list[str]:
    cleaned = [value.strip().rstrip("/").lower() for value in values]
    for origin in cleaned:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    return sorted(set(cleaned))


def _slug(value: str) -> str:
    if value.isdigit():
        raise ValueError("a slug needs at least one letter (digits alone are ids)")
    return value


FEED_EXAMPLE: dict[str, Any] = {
    "slug": "salon",
    "title": "Our work",
    "description": "Cuts and colours from both studios",
    "account_ids": [1, 2],
    "categories": [],
    "featured_only": False,
    "max_posts": 60,
    "ordering": "curated",
    "display": Display().model_dump(),
    "allowed_origins": ["https://www.example.com"],
}


class FeedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples(FEED_EXAMPLE))

    slug: str = Field(pattern=SLUG_PATTERN, examples=["salon"])
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    account_ids: list[int] = Field(min_length=1, max_length=50)
    categories: list[str] = Field(default_factory=list, max_length=50)
    featured_only: bool = False
    max_posts: int | None = Field(None, ge=1, le=10_000)
    ordering: Ordering = "curated"
    display: Display = Field(default_factory=Display)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)

    _check_slug = field_validator("slug")(_slug)
    _check_origins = field_validator("allowed_origins")(_origins)


class FeedUpdate(BaseModel):
    """Only the fields given change; `display` is replaced as a whole."""

    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(None, pattern=SLUG_PATTERN)
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    account_ids: list[int] | None = Field(None, min_length=1, max_length=50)
    categories: list[str] | None = Field(None, max_length=50)
    featured_only: bool | None = None
    max_posts: int | None = Field(None, ge=1, le=10_000)
    ordering: Ordering | None = None
    display: Display | None = None
    allowed_origins: list[str] | None = Field(None, max_length=50)

    _check_slug = field_validator("slug")(lambda v: v if v is None else _slug(v))
    _check_origins = field_validator("allowed_origins")(lambda v: v if v is None else _origins(v))


class FeedOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples(
            {
                "id": 3,
                **FEED_EXAMPLE,
                "default_for_account_id": None,
                "created_at": "2024-05-02T09:30:00Z",
                "updated_at": "2024-05-02T09:30:00Z",
            }
        ),
    )

    id: int
    slug: str
    title: str
    description: str | None
    account_ids: list[int]
    categories: list[str]
    featured_only: bool
    max_posts: int | None
    ordering: str
    display: Display
    allowed_origins: list[str]
    default_for_account_id: int | None = Field(
        description="Set on an account's default feed, which goes when the account goes"
    )
    created_at: datetime
    updated_at: datetime


class FeedPage(Page):
    items: list[FeedOut]


class Profile(BaseModel):
    username: str = Field(examples=["studio.example"])
    name: str | None = Field(examples=["Studio Example"])
    avatar_url: str | None = Field(
        description="From our own storage; null until it is stored", examples=[None]
    )
    biography: str | None
    followers_count: int | None
    profile_url: str = Field(examples=["https://www.instagram.com/studio.example/"])


FEED_POSTS_EXAMPLE: dict[str, Any] = {
    "items": [PUBLIC_POST_EXAMPLE],
    "total": 1,
    "limit": 12,
    "offset": 0,
    "next_offset": None,
    "until": 12,
    "next": None,
}


class FeedPostPage(Page):
    """The gallery's page shape; `next` is the URL of the next page (it keeps `until`, so a
    post arriving between pages never pushes one already shown onto the next page)."""

    model_config = ConfigDict(json_schema_extra=examples(FEED_POSTS_EXAMPLE))

    items: list[PublicPost]
    until: int | None = Field(None, description="Posts newer than this id wait for a reload")
    next: str | None = Field(None, description="The next page's URL; null on the last page")


class PublicFeed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "slug": "salon",
                "title": "Our work",
                "description": None,
                "display": Display().model_dump(),
                "profiles": [
                    {
                        "username": "studio.example",
                        "name": "Studio Example",
                        "avatar_url": None,
                        "biography": "Handmade ceramics",
                        "followers_count": 2480,
                        "profile_url": "https://www.instagram.com/studio.example/",
                    }
                ],
                "posts": FEED_POSTS_EXAMPLE,
            }
        )
    )

    slug: str
    title: str
    description: str | None
    display: Display
    profiles: list[Profile]
    posts: FeedPostPage
