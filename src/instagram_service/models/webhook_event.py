from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import UTCDateTime, utcnow
from instagram_service.models.base import Base


class WebhookEventStatus:
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class WebhookEvent(Base):
    """An incoming Instagram webhook delivery, stored before it is processed."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    signature_ok: Mapped[bool] = mapped_column(Boolean)
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    # sha256 of the raw body: Meta's retries carry the same bytes.
    body_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=WebhookEventStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
