from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instagram_service.models.base import Base, TimestampMixin
from instagram_service.models.image_fields import ImageFieldsMixin

if TYPE_CHECKING:
    from instagram_service.models.post import InstagramPost


class PostMedia(TimestampMixin, ImageFieldsMixin, Base):
    """One child of a carousel album, kept in Instagram's order."""

    __tablename__ = "post_media"
    __table_args__ = (UniqueConstraint("post_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("instagram_posts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    instagram_id: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(32))
    media_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    alt_text: Mapped[str | None] = mapped_column(Text)

    post: Mapped[InstagramPost] = relationship(back_populates="children")
