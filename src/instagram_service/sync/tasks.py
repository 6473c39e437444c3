"""Sync tasks: thin wrappers that take ids and call the engine and services."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from instagram_service.db import after_commit
from instagram_service.models import SyncType
from instagram_service.observability import get_logger
from instagram_service.runtime import get_runtime
from instagram_service.sync import service
from instagram_service.sync.engine import run_sync_job
from instagram_service.worker import broker

log = get_logger(__name__)

WAITING_POLL_S = 2.0


@broker.task(task_name="sync.run_job")
async def run_job(job_id: int) -> None:
    """Run the job; if another worker holds it, wait until it finishes or stops beating.

    A message is acknowledged when this returns, so a redelivery (the first worker was killed)
    must not return while the job is still RUNNING on a heartbeat that has not yet gone stale:
    it waits for the heartbeat to lapse and takes the job over. A duplicate delivery of a job
    that a live worker runs simply waits for it to end.
    """
    runtime = get_runtime()
    timeout = timedelta(seconds=runtime.settings.job_heartbeat_timeout_s)
    while await run_sync_job(runtime.sync_context(), job_id) is None:
        async with runtime.db.session() as session:
            wait = await service.seconds_until_stale(session, job_id, timeout)
        if wait is None:
            return  # finished, or gone: nothing left to run
        await asyncio.sleep(min(wait, WAITING_POLL_S))  # look again soon: it may just end


async def kick_job(job_id: int) -> None:
    await run_job.kiq(job_id)


@broker.task(task_name="sync.scheduler_tick")
async def scheduler_tick() -> None:
    """Reap stale jobs, start due jobs and auto syncs. Safe to run twice: one job per account."""
    runtime = get_runtime()
    timeout = timedelta(seconds=runtime.settings.job_heartbeat_timeout_s)
    async with runtime.db.session() as session:
        to_kick = [job.id for job in await service.reap_stale_jobs(session, timeout)]
        for account, sync_type in await service.accounts_due(session):
            job, created = await service.trigger_sync(
                session, account, sync_type, trigger="schedule"
            )
            if created:
                log.info("scheduled sync", account=account.username, type=sync_type.value)
                to_kick.append(job.id)
        to_kick += [job.id for job in await service.due_pending_jobs(session)]
        after_commit(session, lambda: _kick_all(sorted(set(to_kick))))


async def _kick_all(job_ids: list[int]) -> None:
    for job_id in job_ids:
        await kick_job(job_id)


async def trigger_and_kick(account_ref: str | int, sync_type: SyncType) -> int:
    """Create (or find) the account's job and queue it after the commit; returns its id."""
    runtime = get_runtime()
    async with runtime.db.session() as session:
        account = await service.get_account(session, account_ref)
        job, created = await service.trigger_sync(session, account, sync_type)
        job_id = job.id
        if created:
            after_commit(session, lambda: kick_job(job_id))
    return job_id
