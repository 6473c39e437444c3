from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import JSONType
from instagram_service.models.base import Base, TimestampMixin


class Feed(TimestampMixin, Base):
    """A named public gallery: which posts (accounts, categories, featured only, how many, in
    which order) and how the widget shows them by default (`display`, see feeds/schemas.py)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # Our account ids; the posts of all of them, merged.
    account_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: all
    featured_only: Mapped[bool] = mapped_column(Boolean, default=False)
    max_posts: Mapped[int | None] = mapped_column(Integer)
    ordering: Mapped[str] = mapped_column(String(16), default="curated")  # or "newest"
    display: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: any
    # The feed made for an account when it was connected; it goes when the account goes.
    default_for_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("instagram_accounts.id", ondelete="CASCADE"), unique=True
    )
