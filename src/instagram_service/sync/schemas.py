from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import Page
from instagram_service.models import SyncType

_JOB_EXAMPLE = {
    "id": 57,
    "account_id": 1,
    "sync_type": "INCREMENTAL",
    "walk": "INCREMENTAL",
    "trigger": "schedule",
    "status": "COMPLETED",
    "created_at": "2024-05-02T10:00:00Z",
    "started_at": "2024-05-02T10:00:01Z",
    "completed_at": "2024-05-02T10:00:09Z",
    "scheduled_for": None,
    "posts_processed": 3,
    "posts_added": 2,
    "posts_updated": 1,
    "posts_failed": 0,
    "posts_deleted": 0,
    "api_calls_made": 2,
    "rate_limit_hit": False,
    "retry_after": None,
    "attempt": 1,
    "error_message": None,
}


class SyncTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, description="Account id, Instagram user id or username.")
    type: SyncType = SyncType.INCREMENTAL
    full: bool = Field(False, description="For MANUAL: walk every page (FULL) instead of new.")


class SyncJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=examples(_JOB_EXAMPLE))

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
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "accounts": [
                    {
                        "account_id": 1,
                        "username": "studio.example",
                        "needs_reauth": False,
                        "last_sync_at": "2024-05-02T10:00:09Z",
                        "sync_blocked_until": None,
                        "active_job": None,
                    }
                ],
                "recent_jobs": [_JOB_EXAMPLE],
            }
        )
    )

    accounts: list[AccountSyncState]
    recent_jobs: list[SyncJobOut]
