from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.models.base import Base, TimestampMixin

# Seeded by migration 0004; "general" is where posts go when their category is deleted.
DEFAULT_CATEGORIES = ("before_after", "portfolio", "tutorial", "product", "personal", "general")
FALLBACK_CATEGORY = "general"


class Category(TimestampMixin, Base):
    """A gallery category that posts and rules may name (`InstagramPost.gallery_category`)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
