from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import JSONType
from instagram_service.models.base import Base, TimestampMixin


class ContentFilter(TimestampMixin, Base):
    """A moderation rule; lower `priority` runs first."""

    __tablename__ = "content_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=100, index=True)

    blacklist_hashtags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    whitelist_hashtags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    blacklist_keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Caption keywords that make the rule match (for its actions).
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_likes: Mapped[int | None] = mapped_column(Integer)
    min_engagement_rate: Mapped[float | None] = mapped_column(Float)

    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_feature: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_categorize: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str | None] = mapped_column(String(32))
