"""Sync jobs in bad weather: failing accounts back off, stopped accounts are not called,
a job taken over by another worker stops writing, and the rate-limit budget is per account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from instagram_service.db import Database, utcnow
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.instagram.client import InstagramClient
from instagram_service.instagram.ratelimit import MemoryLimitStore, RateLimiter
from instagram_service.models import (
    InstagramAccount,
    SyncJob,
    SyncStatus,
    SyncType,
    WebhookDelivery,
    WebhookSubscription,
)
from instagram_service.sync import service
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.sync.service import failure_backoff
from instagram_service.sync.tasks import scheduler_tick
from instagram_service.worker.broker import broker, import_task_modules
from tests.emulated import Env, emulated_runtime


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 40, seed=5)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    import_task_modules()
    await broker.startup()
    async with emulated_runtime(emulator, clean_db, tmp_path, page_size=10) as e:
        yield e
        await broker.wait_all()


async def _jobs(env: Env) -> list[SyncJob]:
    async with env.db.session() as session:
        return list((await session.scalars(select(SyncJob).order_by(SyncJob.id))).all())


def test_failure_backoff_doubles_up_to_a_day() -> None:
    assert failure_backoff(60, 1) == timedelta(hours=1)
    assert failure_backoff(60, 2) == timedelta(hours=2)
    assert failure_backoff(60, 4) == timedelta(hours=8)
    assert failure_backoff(60, 30) == timedelta(days=1)


async def test_a_failing_account_is_not_walked_every_tick(env: Env) -> None:
    await env.connect()
    env.emulator.state.set_faults(fail_next=1000, fail_code=10)  # permission error on every call
    for _ in range(4):
        await scheduler_tick(env.container)
        await broker.wait_all()
    jobs = await _jobs(env)
    assert [job.status for job in jobs] == [SyncStatus.FAILED]
    # An hour (the frequency) after the failure the next try is due; after it fails too,
    # the wait doubles.
    async with env.db.session() as session:
        await session.execute(update(SyncJob).values(completed_at=utcnow() - timedelta(minutes=61)))
    await scheduler_tick(env.container)
    await broker.wait_all()
    assert len(await _jobs(env)) == 2
    async with env.db.session() as session:
        await session.execute(update(SyncJob).values(completed_at=utcnow() - timedelta(minutes=61)))
    await scheduler_tick(env.container)
    await broker.wait_all()
    assert len(await _jobs(env)) == 2  # two failures in a row: two hours to wait
    env.emulator.state.reset_faults()
    async with env.db.session() as session:
        await session.execute(update(SyncJob).values(completed_at=utcnow() - timedelta(hours=3)))
    await scheduler_tick(env.container)
    await broker.wait_all()
    jobs = await _jobs(env)
    assert [job.status for job in jobs][-1] == SyncStatus.COMPLETED


async def test_a_queued_job_of_an_account_that_needs_reauth_calls_nothing(env: Env) -> None:
    account = await env.connect()
    async with env.db.session() as session:
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
        job, _ = await service.trigger_sync(session, stored, SyncType.FULL)
        stored.needs_reauth = True  # e.g. a deauthorisation arrived while the job waited
    before = env.calls()
    finished = await run_sync_job(SyncContext.of(env.container), job.id)
    assert finished is not None
    assert finished.status == SyncStatus.FAILED
    assert "reconnected" in (finished.error_message or "")
    assert env.calls() == before
    assert await env.post_count() == 0


async def test_a_job_taken_over_by_another_worker_stops_and_writes_nothing(env: Env) -> None:
    account = await env.connect()
    async with env.db.session() as session:
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
        job, _ = await service.trigger_sync(session, stored, SyncType.FULL)
    env.emulator.state.set_faults(latency_s=0.3)  # every page is slow
    run = asyncio.create_task(run_sync_job(SyncContext.of(env.container), job.id))
    while True:  # wait for this worker's claim, then let "another worker" take the job
        async with env.db.session() as session:
            row = await session.get(SyncJob, job.id)
            assert row is not None
            if row.status == SyncStatus.RUNNING:
                taken_at = utcnow() + timedelta(seconds=1)
                row.started_at = taken_at
                break
        await asyncio.sleep(0.01)
    assert await run is None
    async with env.db.session() as session:
        row = await session.get(SyncJob, job.id)
        assert row is not None
        assert row.status == SyncStatus.RUNNING  # left to the worker that holds it now
        assert row.started_at == taken_at
        assert row.completed_at is None
    assert await env.post_count() == 10  # the first page, committed before the heartbeat


async def test_a_block_under_the_account_holds_for_a_client_that_never_asked_for_me(
    env: Env,
) -> None:
    """Another worker (a fresh client sharing the store) runs only an incremental sync, which
    never calls /me: it must still see the block recorded under the account's user id."""
    account = await env.connect()
    limiter = env.container.client.limiter
    await limiter.record_rate_limited(account.instagram_user_id, 600.0)
    other = InstagramClient(env.container.settings, limiter=limiter)
    env.container.client = other
    before = env.calls()
    job = await env.sync(account.id, SyncType.INCREMENTAL)
    assert job.status == SyncStatus.PENDING  # could not start yet: rescheduled, not failed
    assert job.rate_limit_hit
    assert env.calls() == before


async def test_a_job_that_cannot_start_yet_is_rescheduled_with_no_failure_event(
    env: Env,
) -> None:
    account = await env.connect()
    async with env.db.session() as session:
        session.add(
            WebhookSubscription(
                url="https://cms.example/h", events=["sync.failed"], secret_encrypted=b"x"
            )
        )
    await env.container.client.limiter.record_rate_limited(account.instagram_user_id, 600.0)
    job = await env.sync(account.id, SyncType.INCREMENTAL)
    assert job.status == SyncStatus.PENDING
    assert job.completed_at is None
    assert job.scheduled_for is not None
    assert timedelta(seconds=590) < job.scheduled_for - utcnow() <= timedelta(seconds=600)
    async with env.db.session() as session:
        assert (await session.scalars(select(WebhookDelivery))).all() == []
        jobs = (await session.scalars(select(SyncJob))).all()
    assert [j.id for j in jobs] == [job.id]  # no FAILED row, no follow-up beside it


async def test_the_follow_up_runs_at_the_time_instagram_names(env: Env) -> None:
    """A code-4 block with a 2-minute regain time: the follow-up, started then, succeeds."""
    clock = Clock()
    settings = env.container.settings
    limiter = RateLimiter(MemoryLimitStore(clock), usage_ttl_s=300, clock=clock)
    await env.container.client.aclose()
    env.container.client = InstagramClient(settings, limiter=limiter)
    account = await env.connect()
    env.emulator.state.set_faults(usage_pct=100.0, rate_limit_code=4, regain_minutes=2)
    first = await env.sync(account.id, SyncType.INCREMENTAL)
    env.emulator.state.reset_faults()
    assert first.status == SyncStatus.FAILED
    assert first.retry_after is not None
    clock.now += 121  # the time Instagram named has come
    async with env.db.session() as session:
        follow_up = await service.active_job(session, account.id)
        assert follow_up is not None
        assert follow_up.scheduled_for == first.retry_after
        follow_up.scheduled_for = utcnow()
    finished = await run_sync_job(SyncContext.of(env.container), follow_up.id)
    assert finished is not None
    assert finished.status == SyncStatus.COMPLETED, finished.error_message
    assert finished.api_calls_made > 0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now
