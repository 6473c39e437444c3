"""The status record of a moderation re-run queued as a task (moderation/tasks.py).

The record lives where the task and the API can both see it: in this process's memory when
no Redis is configured (the in-process broker runs the task in the API process), else in
Redis (`igs:moderation:rerun:<id>`, kept for a day). Records are not in the database: they
are progress reports, not history, and a restart forgets in-memory ones.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from instagram_service.db import utcnow
from instagram_service.kit.openapi import examples
from instagram_service.settings import Settings
from instagram_service.worker.enqueue import enqueue

RERUN_TASK = "moderation.rerun"
RUN_ID_PATTERN = r"^[0-9a-f]{32}$"
REDIS_PREFIX = "igs:moderation:rerun:"
REDIS_TTL_S = 24 * 3600
MEMORY_KEEP = 100  # newest records kept in memory

RunState = Literal["queued", "running", "completed", "failed"]


class RerunStatus(BaseModel):
    """A re-run of the rules over every post, queued as a task."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "id": "5f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e",
                "status": "running",
                "processed": 20,
                "total": 61,
                "changed": 0,
                "public_changes": 0,
                "error": None,
                "created_at": "2024-05-02T10:00:00Z",
                "updated_at": "2024-05-02T10:00:02Z",
            }
        )
    )

    id: str = Field(examples=["5f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e"])
    status: RunState
    processed: int = Field(0, description="Posts done so far.")
    total: int | None = Field(None, description="Not-deleted posts; known once it runs.")
    changed: int = Field(0, description="Posts whose automatic fields changed (when done).")
    public_changes: int = Field(0, description="post.* events emitted (when done).")
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class StatusStore(Protocol):
    async def get(self, run_id: str) -> RerunStatus | None: ...

    async def put(self, status: RerunStatus) -> None: ...


class MemoryStatusStore:
    def __init__(self) -> None:
        self._records: OrderedDict[str, str] = OrderedDict()

    async def get(self, run_id: str) -> RerunStatus | None:
        raw = self._records.get(run_id)
        return RerunStatus.model_validate_json(raw) if raw is not None else None

    async def put(self, status: RerunStatus) -> None:
        self._records[status.id] = status.model_dump_json()
        self._records.move_to_end(status.id)
        while len(self._records) > MEMORY_KEEP:
            self._records.popitem(last=False)


class RedisStatusStore:
    """A connection per call: a few calls per batch of posts, from any process."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def get(self, run_id: str) -> RerunStatus | None:
        client: Redis = Redis.from_url(self.url)
        try:
            raw = await client.get(REDIS_PREFIX + run_id)
        finally:
            await client.aclose()
        return RerunStatus.model_validate(json.loads(raw)) if raw else None

    async def put(self, status: RerunStatus) -> None:
        client: Redis = Redis.from_url(self.url)
        try:
            await client.set(REDIS_PREFIX + status.id, status.model_dump_json(), ex=REDIS_TTL_S)
        finally:
            await client.aclose()


_memory = MemoryStatusStore()


def status_store(settings: Settings) -> StatusStore:
    return RedisStatusStore(settings.redis_url) if settings.redis_url else _memory


async def update_status(store: StatusStore, run_id: str, **fields: object) -> RerunStatus | None:
    status = await store.get(run_id)
    if status is None:  # expired or forgotten: nothing to report on
        return None
    fresh = status.model_copy(update={**fields, "updated_at": utcnow()})
    await store.put(fresh)
    return fresh


async def queue_rerun(settings: Settings) -> RerunStatus:
    """Record a queued run and send the task; returns the record to poll."""
    now = utcnow()
    status = RerunStatus(id=uuid.uuid4().hex, status="queued", created_at=now, updated_at=now)
    store = status_store(settings)
    await store.put(status)
    await enqueue(RERUN_TASK, status.id)
    return status


async def get_rerun(settings: Settings, run_id: str) -> RerunStatus | None:
    return await status_store(settings).get(run_id)
