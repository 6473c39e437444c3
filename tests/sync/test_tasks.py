"""Sync jobs through the task queue: in-process broker, and Redis with worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from instagram_service.accounts.service import get_account
from instagram_service.db import Database, utcnow
from instagram_service.instagram.client import InstagramClient
from instagram_service.models import InstagramAccount, SyncJob, SyncStatus, SyncType
from instagram_service.sync import service
from instagram_service.sync.tasks import scheduler_tick
from instagram_service.worker.broker import broker, import_task_modules
from tests.conftest import TOKEN_KEY
from tests.support.emulated import Env, emulated_env


async def trigger_and_kick(env: Env, account_id: int, sync_type: SyncType) -> int:
    """Create (or find) the account's job and queue it after the commit; returns its id."""
    async with env.db.session() as session:
        account = await get_account(session, account_id)
        job, _ = await service.trigger_sync(session, account, sync_type, queue=True)
        return job.id


@pytest.fixture
async def env(clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    import_task_modules()
    await broker.startup()
    async with emulated_env(clean_db, tmp_path, accounts=3, posts=40, seed=11, page_size=25) as e:
        yield e


async def _wait_for(db: Database, job_ids: list[int], timeout: float = 60) -> list[SyncJob]:
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as session:
            # By id: without an order PostgreSQL returns updated rows wherever they now lie
            # (a job updated last came back after a newer one: a flaky order).
            jobs = (
                await session.scalars(
                    select(SyncJob).where(SyncJob.id.in_(job_ids)).order_by(SyncJob.id)
                )
            ).all()
        if all(j.status in (SyncStatus.COMPLETED, SyncStatus.FAILED) for j in jobs):
            return list(jobs)
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs did not finish: {[(j.id, j.status) for j in jobs]}")
        await asyncio.sleep(0.2)


async def test_concurrent_triggers_give_one_job(env: Env) -> None:
    account = await env.connect()
    ids = await asyncio.gather(
        *(trigger_and_kick(env, account.id, SyncType.MANUAL) for _ in range(5))
    )
    assert len(set(ids)) == 1
    await broker.wait_all()
    (job,) = await _wait_for(env.db, ids[:1])
    assert job.status == SyncStatus.COMPLETED
    async with env.db.session() as session:
        all_jobs = (await session.scalars(select(SyncJob))).all()
    assert len(all_jobs) == 1


async def test_scheduler_tick_starts_due_syncs_once(env: Env) -> None:
    for index in range(3):
        await env.connect(index)
    await scheduler_tick(env.container)
    await scheduler_tick(
        env.container
    )  # a second tick while jobs are pending or running adds nothing
    await broker.wait_all()
    async with env.db.session() as session:
        jobs = (await session.scalars(select(SyncJob))).all()
    assert len(jobs) == 3
    finished = await _wait_for(env.db, [j.id for j in jobs])
    assert {j.walk for j in finished} == {SyncType.FULL}  # first sync of the day is FULL
    assert all(j.status == SyncStatus.COMPLETED for j in finished)
    await scheduler_tick(env.container)  # nothing is due right after
    async with env.db.session() as session:
        assert len((await session.scalars(select(SyncJob))).all()) == 3


async def test_stale_running_job_is_failed_and_retried(env: Env) -> None:
    account = await env.connect()
    async with env.db.session() as session:
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
        job, _ = await service.trigger_sync(session, stored, SyncType.FULL)
        job.status = SyncStatus.RUNNING
        job.heartbeat_at = utcnow() - timedelta(hours=1)
    async with env.db.session() as session:
        retries = await service.reap_stale_jobs(session, timedelta(minutes=5))
    assert len(retries) == 1
    async with env.db.session() as session:
        old = await session.get(SyncJob, job.id)
        assert old is not None
        assert old.status == SyncStatus.FAILED
        assert "heartbeat" in (old.error_message or "")
        retry = await session.get(SyncJob, retries[0].id)
        assert retry is not None
        assert retry.status == SyncStatus.PENDING
        assert retry.attempt == 2


async def test_rate_limited_follow_up_runs_when_due(env: Env) -> None:
    account = await env.connect()
    env.emulator.state.set_faults(usage_pct=100.0)
    job_id = await trigger_and_kick(env, account.id, SyncType.FULL)
    await broker.wait_all()
    (job,) = await _wait_for(env.db, [job_id])
    assert job.rate_limit_hit
    env.emulator.state.reset_faults()
    # Time passes: the limiter's block and the follow-up's wait are over.
    await env.container.client.aclose()
    env.container.client = InstagramClient(env.container.settings)
    async with env.db.session() as session:
        await session.execute(
            update(SyncJob)
            .values(scheduled_for=utcnow() - timedelta(seconds=1))
            .where(SyncJob.status == SyncStatus.PENDING)
        )
        await session.execute(update(InstagramAccount).values(sync_blocked_until=None))
    await scheduler_tick(env.container)
    await broker.wait_all()
    async with env.db.session() as session:
        jobs = (await session.scalars(select(SyncJob).order_by(SyncJob.id))).all()
    finished = await _wait_for(env.db, [j.id for j in jobs])
    assert [j.status for j in finished] == [SyncStatus.FAILED, SyncStatus.COMPLETED]
    assert finished[1].trigger == "rate_limit"


requires_redis_pg = pytest.mark.skipif(
    not (os.environ.get("IGS_TEST_REDIS_URL") and os.environ.get("IGS_TEST_DATABASE_URL")),
    reason="needs IGS_TEST_REDIS_URL and IGS_TEST_DATABASE_URL (the CI's second pass)",
)


def worker_env(
    env: Env, redis_url: str, database_url: str, tmp_path: Path, queue: str, **extra: str
) -> dict[str, str]:
    """The environment of an `instagram-service worker` process on Redis and this database."""
    return {
        **os.environ,
        "IGS_BROKER": "redis",
        "IGS_REDIS_URL": redis_url,
        "IGS_TASK_QUEUE": queue,
        "IGS_DATABASE_URL": database_url,
        "IGS_GRAPH_BASE_URL": env.emulator.base_url,
        "IGS_TOKEN_KEYS": TOKEN_KEY,
        "IGS_DATA_DIR": str(tmp_path),
        **extra,
    }


@requires_redis_pg
async def test_redis_broker_two_worker_processes_sync_each_account_once(
    env: Env, redis_url: str, database_url: str, tmp_path: Path
) -> None:
    from taskiq.kicker import AsyncKicker
    from taskiq_redis import RedisStreamBroker

    accounts = [await env.connect(i) for i in range(3)]
    queue = f"igs:test:{uuid.uuid4().hex}"
    child_env = worker_env(env, redis_url, database_url, tmp_path, queue, IGS_PAGE_SIZE="25")
    command = [sys.executable, "-m", "instagram_service.cli", "worker", "--processes", "1"]
    workers = [subprocess.Popen(command, env=child_env) for _ in range(2)]
    sender = RedisStreamBroker(redis_url, queue_name=queue, consumer_group_name="igs-workers")
    await sender.startup()
    try:
        env.emulator.state.reset_stats()
        job_ids = []
        async with env.db.session() as session:
            for account in accounts:
                stored = await session.get(InstagramAccount, account.id)
                assert stored is not None
                job, _ = await service.trigger_sync(session, stored, SyncType.FULL)
                await session.flush()
                job_ids.append(job.id)
        for job_id in job_ids:
            await AsyncKicker("sync.run_job", sender, {}).kiq(job_id)
            await AsyncKicker("sync.run_job", sender, {}).kiq(job_id)  # a duplicate delivery
        jobs = await _wait_for(env.db, job_ids, timeout=90)
    finally:
        await sender.shutdown()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    assert all(j.status == SyncStatus.COMPLETED for j in jobs), [j.error_message for j in jobs]
    assert all(j.posts_added == 40 for j in jobs)
    # Each account walked once: its profile, then 40 posts at 25 per page: 3 calls each.
    assert env.emulator.state.stats()["total_calls"] == 3 * 3


@requires_redis_pg
async def test_a_job_whose_worker_was_killed_is_delivered_again_and_completed(
    env: Env, redis_url: str, database_url: str, tmp_path: Path
) -> None:
    """kill -9 of a worker (and its children) mid-walk: the unacknowledged message goes to
    another worker once idle, which waits for the heartbeat to lapse and finishes the job."""
    from taskiq.kicker import AsyncKicker
    from taskiq_redis import RedisStreamBroker

    account = await env.connect()
    queue = f"igs:test:{uuid.uuid4().hex}"
    child_env = worker_env(
        env, redis_url, database_url, tmp_path, queue,
        IGS_PAGE_SIZE="5", IGS_JOB_HEARTBEAT_TIMEOUT_S="10",
    )  # fmt: skip
    command = [sys.executable, "-m", "instagram_service.cli", "worker", "--processes", "1"]
    first = subprocess.Popen(command, env=child_env, start_new_session=True)
    second: subprocess.Popen[bytes] | None = None
    sender = RedisStreamBroker(redis_url, queue_name=queue, consumer_group_name="igs-workers")
    await sender.startup()
    try:
        env.emulator.state.set_faults(latency_s=0.4)  # 9 slow calls: time to die mid-walk
        async with env.db.session() as session:
            stored = await session.get(InstagramAccount, account.id)
            assert stored is not None
            job, _ = await service.trigger_sync(session, stored, SyncType.FULL)
        await AsyncKicker("sync.run_job", sender, {}).kiq(job.id)
        deadline = time.monotonic() + 60
        while True:  # the first worker has committed at least one page
            async with env.db.session() as session:
                row = await session.get(SyncJob, job.id)
                assert row is not None
                if row.status == SyncStatus.RUNNING and row.posts_processed >= 5:
                    break
            assert time.monotonic() < deadline, "the first worker never started the job"
            await asyncio.sleep(0.1)
        os.killpg(first.pid, 9)
        first.wait(timeout=30)
        second = subprocess.Popen(command, env=child_env, start_new_session=True)
        (finished,) = await _wait_for(env.db, [job.id], timeout=120)
    finally:
        await sender.shutdown()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
    assert finished.status == SyncStatus.COMPLETED, finished.error_message
    assert finished.attempt == 1  # the same job, taken over: not a retry
    assert await env.post_count() == 40
    async with env.db.session() as session:
        assert len((await session.scalars(select(SyncJob))).all()) == 1
