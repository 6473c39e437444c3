"""A sync job's lease: claimed atomically, kept by heartbeats, checked before the result is
written. The lease is the job's `started_at`: a worker that took a stale job over wrote a
new one, so the slow worker's later writes match nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from instagram_service.db import Database, utcnow
from instagram_service.models import SyncJob, SyncStatus


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to beat): stop, write nothing."""


async def claim_job(db: Database, job_id: int, heartbeat_timeout: timedelta) -> datetime | None:
    """Atomically move a job to RUNNING; a redelivered job whose worker still beats is left.

    Returns the lease (the new `started_at`) that this worker's later writes are guarded by.
    """
    now = utcnow()
    stale = now - heartbeat_timeout
    async with db.session() as session:
        result = await session.execute(
            update(SyncJob)
            .where(
                SyncJob.id == job_id,
                (SyncJob.status == SyncStatus.PENDING)
                | ((SyncJob.status == SyncStatus.RUNNING) & (SyncJob.heartbeat_at < stale)),
            )
            .values(status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now)
        )
        return now if getattr(result, "rowcount", 0) else None


async def heartbeat(db: Database, job_id: int, lease: datetime, counters: dict[str, int]) -> None:
    """Beat (and store the counters so far); raises LeaseLost if the job is no longer ours."""
    async with db.session() as session:
        result = await session.execute(
            update(SyncJob)
            .where(
                SyncJob.id == job_id,
                SyncJob.status == SyncStatus.RUNNING,
                SyncJob.started_at == lease,
            )
            .values(heartbeat_at=utcnow(), **counters)
        )
    if not getattr(result, "rowcount", 0):
        raise LeaseLost


def holds(job: SyncJob, lease: datetime) -> bool:
    """Whether the job is still RUNNING on this worker's lease (not taken over or reaped)."""
    return job.status == SyncStatus.RUNNING and job.started_at == lease
