from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import UTCDateTime, utcnow
from instagram_service.models.base import Base


class OAuthState(Base):
    """A pending Business Login: its `state` (stored hashed) is good for one callback, for a
    few minutes, and belongs to whoever started the flow (`owner`: an API key or a session)."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
