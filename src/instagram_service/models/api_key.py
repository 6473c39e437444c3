from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import JSONType, UTCDateTime
from instagram_service.models.base import Base, TimestampMixin


class ApiKey(TimestampMixin, Base):
    """An API key, stored as a SHA-256 hash; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(16))  # "admin" or "read"
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Logging out of the console ends every console session of this key signed in before.
    sessions_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: every account. A list: only those accounts' posts, syncs and feeds.
    account_ids: Mapped[list[int] | None] = mapped_column(JSONType, default=None)
