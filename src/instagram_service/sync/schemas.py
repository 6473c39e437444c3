from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from instagram_service.models import SyncType
from instagram_service.posts.schemas import Page


class SyncTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, description="Account id, Instagram user id or username.")
    type: SyncType = SyncType.INCREMENTAL
    full: bool = Field(False, description="For MANUAL: walk every page (FULL) instead of new.")


class SyncJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    sync_type: str
    walk: str
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    scheduled_for: datetime | None
    posts_processed: int
    posts_added: int
    posts_updated: int
    posts_failed: int
    posts_deleted: int
    api_calls_made: int
    rate_limit_hit: bool
    retry_after: datetime | None
    attempt: int
    error_message: str | None


class SyncJobPage(Page):
    items: list[SyncJobOut]


class AccountSyncState(BaseModel):
    account_id: int
    username: str
    needs_reauth: bool
    last_sync_at: datetime | None
    sync_blocked_until: datetime | None
    active_job: SyncJobOut | None


class SyncStatusOut(BaseModel):
    accounts: list[AccountSyncState]
    recent_jobs: list[SyncJobOut]
