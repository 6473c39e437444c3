"""Typed results of the Instagram API, tolerant of missing and unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator


def _to_str(value: Any) -> Any:
    # Graph ids are strings, but some payloads carry them as JSON numbers.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def parse_timestamp(value: Any) -> Any:
    """ISO 8601 with `+0000`, `+00:00` or `Z`, or a Unix time, to an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


IGId = Annotated[str, BeforeValidator(_to_str)]
OptId = Annotated[str | None, BeforeValidator(_to_str)]
Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]


class _IGModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _StillMixin:
    """What IGMedia and IGChild share: which still image to keep."""

    if TYPE_CHECKING:  # fields declared by the models
        media_type: str | None
        media_url: str | None
        thumbnail_url: str | None

    @property
    def is_video(self) -> bool:
        return self.media_type == "VIDEO"

    @property
    def image_url(self) -> str | None:
        """The still image to keep: a video's cover, else the media itself."""
        return self.thumbnail_url if self.is_video else self.media_url


class IGChild(_StillMixin, _IGModel):
    id: IGId
    media_type: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    alt_text: str | None = None
    permalink: str | None = None
    shortcode: str | None = None
    timestamp: Timestamp | None = None


class IGMedia(_StillMixin, _IGModel):
    id: IGId
    caption: str | None = None
    media_type: str | None = None
    media_product_type: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    permalink: str | None = None
    shortcode: str | None = None
    timestamp: Timestamp | None = None
    username: str | None = None
    like_count: int | None = None
    comments_count: int | None = None
    is_comment_enabled: bool | None = None
    is_shared_to_feed: bool | None = None
    alt_text: str | None = None
    children: list[IGChild] = Field(default_factory=list)

    @field_validator("children", mode="before")
    @classmethod
    def _flatten_children(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value.get("data") or []
        return value if value is not None else []

    @property
    def is_reel(self) -> bool:
        return self.media_product_type == "REELS"

    @property
    def is_carousel(self) -> bool:
        return self.media_type == "CAROUSEL_ALBUM"


def _unwrap_data(value: Any) -> Any:
    """`/me` may come flat or wrapped in {"data": [ {...} ]}."""
    if isinstance(value, dict) and isinstance(value.get("data"), list) and value["data"]:
        first = value["data"][0]
        return first if isinstance(first, dict) else value
    return value


class IGUser(_IGModel):
    """A professional account. `user_id` is the id webhooks use; `id` falls back to it."""

    id: IGId
    user_id: IGId
    username: str | None = None
    name: str | None = None
    account_type: str | None = None
    profile_picture_url: str | None = None
    followers_count: int | None = None
    follows_count: int | None = None
    media_count: int | None = None
    biography: str | None = None
    website: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        value = _unwrap_data(value)
        if isinstance(value, dict):
            value = dict(value)
            value.setdefault("user_id", value.get("id"))
            value.setdefault("id", value.get("user_id"))
        return value


class MediaPage(_IGModel):
    items: list[IGMedia]
    next_url: str | None = Field(default=None, repr=False)
    after: str | None = None


class LongLivedToken(_IGModel):
    access_token: str = Field(repr=False)
    token_type: str = "bearer"  # noqa: S105
    expires_in: int | None = None


class ShortLivedToken(_IGModel):
    access_token: str = Field(repr=False)
    user_id: IGId
    permissions: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap_data(value)

    @field_validator("permissions", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value if value is not None else []
