from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(
        min_length=1, description="A long-lived Instagram token (never returned)."
    )


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_sync: bool | None = None
    sync_frequency_minutes: int | None = Field(None, ge=5, le=7 * 24 * 60)
    max_posts_to_sync: int | None = Field(None, ge=1, le=10_000)
    is_active: bool | None = None


class AccountOut(BaseModel):
    """An account; its token is never part of any response."""

    model_config = ConfigDict(from_attributes=True)

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
    token_expires_at: datetime | None
    last_sync_at: datetime | None
    last_full_sync_at: datetime | None
    sync_blocked_until: datetime | None
    created_at: datetime
