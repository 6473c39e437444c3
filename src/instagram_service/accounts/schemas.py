from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instagram_service.instagram.token_shape import token_shape_problem
from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import Page


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(
        min_length=1, description="A long-lived Instagram token (never returned)."
    )

    @field_validator("access_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        token = value.strip()
        problem = token_shape_problem(token) if token else None  # blank: the service says so
        if problem:
            raise ValueError(problem)
        return value


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_sync: bool | None = None
    sync_frequency_minutes: int | None = Field(None, ge=5, le=7 * 24 * 60)
    max_posts_to_sync: int | None = Field(None, ge=1, le=10_000)
    is_active: bool | None = None
    download_videos: bool | None = Field(
        None, description="Opt this account out of video downloads (with IGS_DOWNLOAD_VIDEOS)"
    )


class AccountOut(BaseModel):
    """An account; its token is never part of any response."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples(
            {
                "id": 1,
                "instagram_user_id": "17841400000000001",
                "username": "studio.example",
                "name": "Studio Example",
                "account_type": "BUSINESS",
                "profile_picture_url": "https://scontent.cdninstagram.com/v/t51/profile.jpg",
                "followers_count": 2480,
                "media_count": 61,
                "is_active": True,
                "needs_reauth": False,
                "reauth_reason": None,
                "auto_sync": True,
                "sync_frequency_minutes": 60,
                "max_posts_to_sync": 500,
                "download_videos": True,
                "token_expires_at": "2024-07-01T09:00:00Z",
                "last_sync_at": "2024-05-02T10:00:00Z",
                "last_full_sync_at": "2024-05-01T03:00:00Z",
                "sync_blocked_until": None,
                "created_at": "2024-04-01T08:00:00Z",
            }
        ),
    )

    id: int
    instagram_user_id: str
    username: str
    name: str | None
    account_type: str | None
    profile_picture_url: str | None
    followers_count: int | None
    media_count: int | None
    is_active: bool
    needs_reauth: bool
    reauth_reason: str | None
    auto_sync: bool
    sync_frequency_minutes: int
    max_posts_to_sync: int
    download_videos: bool
    token_expires_at: datetime | None
    last_sync_at: datetime | None
    last_full_sync_at: datetime | None
    sync_blocked_until: datetime | None
    created_at: datetime


class AccountPage(Page):
    items: list[AccountOut]
