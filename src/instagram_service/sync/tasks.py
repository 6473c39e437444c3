"""Sync tasks: thin wrappers that take ids and call the engine and services."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from taskiq import async_shared_broker

from instagram_service.container import ContainerDep
from instagram_service.observability import get_logger
from instagram_service.sync import service
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.sync.service import RUN_JOB_TASK
from instagram_service.worker.enqueue import enqueue_each_after_commit

log = get_logger(__name__)

WAITING_POLL_S = 2.0


@async_shared_broker.task(task_name=RUN_JOB_TASK)
async def run_job(job_id: int, container: ContainerDep) -> None:
    """Run the job; if another worker holds it, wait until it finishes or stops beating.

    A message is acknowledged when this returns, so a redelivery (the first worker was killed)
    must not return while the job is still RUNNING on a heartbeat that has not yet gone stale:
    it waits for the heartbeat to lapse and takes the job over. A duplicate delivery of a job
    that a live worker runs simply waits for it to end.
    """
    timeout = timedelta(seconds=container.settings.job_heartbeat_timeout_s)
    while await run_sync_job(SyncContext.of(container), job_id) is None:
        async with container.db.session() as session:
            wait = await service.seconds_until_stale(session, job_id, timeout)
        if wait is None:
            return  # finished, or gone: nothing left to run
        await asyncio.sleep(min(wait, WAITING_POLL_S))  # look again soon: it may just end


@async_shared_broker.task(task_name="sync.scheduler_tick")
async def scheduler_tick(container: ContainerDep) -> None:
    """Reap stale jobs, start due jobs and auto syncs. Safe to run twice: one job per account."""
    timeout = timedelta(seconds=container.settings.job_heartbeat_timeout_s)
    async with container.db.session() as session:
        to_kick = [job.id for job in await service.reap_stale_jobs(session, timeout)]
        due = await service.accounts_due(session)
        scheduled = await service.schedule_auto_syncs(session, due)
        if scheduled:
            log.info("scheduled syncs", jobs=len(scheduled), due=len(due))
        to_kick += scheduled
        to_kick += [job.id for job in await service.due_pending_jobs(session)]
        enqueue_each_after_commit(session, RUN_JOB_TASK, sorted(set(to_kick)))
