from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instagram_service.db import JSONType, UTCDateTime
from instagram_service.models.base import Base, TimestampMixin
from instagram_service.models.image_fields import ImageFieldsMixin

if TYPE_CHECKING:
    from instagram_service.models.account import InstagramAccount
    from instagram_service.models.post_media import PostMedia

# Moderation fields an admin can set by hand; once set, automation leaves them alone.
MANUAL_FIELDS = ("is_approved", "is_featured", "gallery_category", "display_order")
# Instagram fields an admin may override; listed in manual_fields too, so syncs keep them.
ADMIN_TEXT_FIELDS = ("alt_text",)


class InstagramPost(TimestampMixin, ImageFieldsMixin, Base):
    __tablename__ = "instagram_posts"
    __table_args__ = (
        Index(
            "ix_instagram_posts_gallery",
            "is_approved",
            "deleted_at",
            "is_featured",
            "display_order",
            "posted_at",
        ),
        Index("ix_instagram_posts_category", "gallery_category", "is_approved", "deleted_at"),
        Index("ix_instagram_posts_account_posted", "account_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instagram_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("instagram_accounts.id", ondelete="CASCADE"), index=True
    )

    # As Instagram gives them.
    media_type: Mapped[str] = mapped_column(String(32))
    media_product_type: Mapped[str | None] = mapped_column(String(32))
    media_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    permalink: Mapped[str | None] = mapped_column(Text)
    shortcode: Mapped[str | None] = mapped_column(String(64))
    caption: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255))
    alt_text: Mapped[str | None] = mapped_column(Text)
    like_count: Mapped[int | None] = mapped_column(Integer)  # None: hidden by the owner
    comments_count: Mapped[int | None] = mapped_column(Integer)
    is_comment_enabled: Mapped[bool | None] = mapped_column(Boolean)
    is_shared_to_feed: Mapped[bool | None] = mapped_column(Boolean)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    # Derived from the caption.
    hashtags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    mentions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    content_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)

    # Moderation. is_approved None means pending review.
    is_approved: Mapped[bool | None] = mapped_column(Boolean, default=None)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    gallery_category: Mapped[str] = mapped_column(String(32), default="general")
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    # Which rule or default decided each field: {"approval": "...", "featured": ..., ...}.
    moderation_reason: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Subset of MANUAL_FIELDS an admin set by hand.
    manual_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)

    # Sync bookkeeping.
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_retry_count: Mapped[int] = mapped_column(Integer, default=0)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    account: Mapped[InstagramAccount] = relationship(back_populates="posts")
    children: Mapped[list[PostMedia]] = relationship(
        back_populates="post",
        order_by="PostMedia.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
