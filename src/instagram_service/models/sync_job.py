from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instagram_service.db import UTCDateTime
from instagram_service.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from instagram_service.models.account import InstagramAccount


class SyncType(StrEnum):
    FULL = "FULL"
    INCREMENTAL = "INCREMENTAL"
    MANUAL = "MANUAL"


class SyncStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


ACTIVE_STATUSES = (SyncStatus.PENDING.value, SyncStatus.RUNNING.value)
_ACTIVE_SQL = text("status IN ('PENDING', 'RUNNING')")


class SyncJob(TimestampMixin, Base):
    __tablename__ = "sync_jobs"
    __table_args__ = (
        # At most one active job per account, across processes: the database enforces it.
        Index(
            "uq_sync_jobs_one_active_per_account",
            "account_id",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_sync_jobs_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("instagram_accounts.id", ondelete="CASCADE"), index=True
    )
    sync_type: Mapped[str] = mapped_column(String(16), default=SyncType.INCREMENTAL.value)
    # For MANUAL jobs: the walk actually performed (FULL or INCREMENTAL).
    walk: Mapped[str] = mapped_column(String(16), default=SyncType.INCREMENTAL.value)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    status: Mapped[str] = mapped_column(String(16), default=SyncStatus.PENDING.value)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posts_processed: Mapped[int] = mapped_column(Integer, default=0)
    posts_added: Mapped[int] = mapped_column(Integer, default=0)
    posts_updated: Mapped[int] = mapped_column(Integer, default=0)
    posts_failed: Mapped[int] = mapped_column(Integer, default=0)
    posts_deleted: Mapped[int] = mapped_column(Integer, default=0)
    api_calls_made: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    error_message: Mapped[str | None] = mapped_column(Text)

    account: Mapped[InstagramAccount] = relationship(back_populates="sync_jobs")
