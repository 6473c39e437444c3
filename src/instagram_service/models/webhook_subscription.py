from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instagram_service.db import JSONType, UTCDateTime
from instagram_service.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from instagram_service.models.webhook_delivery import WebhookDelivery

EVENT_TYPES = (
    "post.published",
    "post.updated",
    "post.removed",
    "gallery.changed",
    "account.needs_reauth",
    "sync.failed",
)


class WebhookSubscription(TimestampMixin, Base):
    """A CMS endpoint that receives our signed outgoing events."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # The whsec_ secret, Fernet-encrypted like account tokens.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(255))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )
