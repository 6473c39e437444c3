from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Integer, LargeBinary, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instagram_service.db import UTCDateTime
from instagram_service.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from instagram_service.models.post import InstagramPost
    from instagram_service.models.sync_job import SyncJob


class InstagramAccount(TimestampMixin, Base):
    __tablename__ = "instagram_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    instagram_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    account_type: Mapped[str | None] = mapped_column(String(32))
    profile_picture_url: Mapped[str | None] = mapped_column(Text)
    biography: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    followers_count: Mapped[int | None] = mapped_column(Integer)
    follows_count: Mapped[int | None] = mapped_column(Integer)
    media_count: Mapped[int | None] = mapped_column(Integer)

    # Fernet ciphertext; the plain token never leaves accounts.service.
    access_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    needs_reauth: Mapped[bool] = mapped_column(Boolean, default=False)
    reauth_reason: Mapped[str | None] = mapped_column(Text)
    auto_sync: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_frequency_minutes: Mapped[int] = mapped_column(Integer, default=60)
    max_posts_to_sync: Mapped[int] = mapped_column(Integer, default=50)
    # Opt-out of video downloads for this account (with IGS_DOWNLOAD_VIDEOS on).
    download_videos: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When Instagram said access returns after a rate limit: no sync starts before it.
    sync_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Bumped in the same transaction as any change to the account's posts or their media
    # (models/content_version.py): other processes' gallery caches compare it, as timestamps
    # set at flush time can commit out of order.
    content_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    posts: Mapped[list[InstagramPost]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )
    sync_jobs: Mapped[list[SyncJob]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )
