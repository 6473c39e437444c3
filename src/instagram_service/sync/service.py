"""Sync jobs: trigger (one active per account), look up, list, reap stale ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Integer, Select, String, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import get_or_404, utcnow
from instagram_service.errors import BadRequest, Conflict, NeedsReauth
from instagram_service.models import (
    ACTIVE_STATUSES,
    InstagramAccount,
    SyncJob,
    SyncStatus,
    SyncType,
)
from instagram_service.worker.enqueue import enqueue_after_commit

MAX_ATTEMPTS = 3
RUN_JOB_TASK = "sync.run_job"


async def active_job(session: AsyncSession, account_id: int) -> SyncJob | None:
    return await session.scalar(
        select(SyncJob).where(SyncJob.account_id == account_id, SyncJob.status.in_(ACTIVE_STATUSES))
    )


async def active_jobs(session: AsyncSession) -> dict[int, SyncJob]:
    """Every account's active job (at most one each), by account id."""
    jobs = await session.scalars(select(SyncJob).where(SyncJob.status.in_(ACTIVE_STATUSES)))
    return {job.account_id: job for job in jobs}


async def trigger_sync(
    session: AsyncSession,
    account: InstagramAccount,
    sync_type: SyncType,
    *,
    full: bool = False,
    trigger: str = "manual",
    queue: bool = False,
) -> tuple[SyncJob, bool]:
    """Create a PENDING job, or return the account's active one. Returns (job, created).
    `queue`: a job created is sent to the workers once the session commits.

    The partial unique index on sync_jobs makes this safe across processes.
    """
    if account.needs_reauth:
        raise NeedsReauth(
            f"account @{account.username} must be reconnected: {account.reauth_reason or ''}"
        )
    if not account.is_active:
        raise BadRequest(f"account @{account.username} is deactivated")
    existing = await active_job(session, account.id)
    if existing is not None:
        return existing, False
    walk = SyncType.FULL if sync_type == SyncType.FULL or full else SyncType.INCREMENTAL
    job = SyncJob(
        account_id=account.id,
        sync_type=sync_type.value,
        walk=walk.value,
        trigger=trigger,
        status=SyncStatus.PENDING,
    )
    try:
        async with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another process created one between our read and our insert.
        again = await active_job(session, account.id)
        if again is None:
            raise
        return again, False
    if queue:
        enqueue_after_commit(session, RUN_JOB_TASK, job.id, swept=False)
    return job, True


async def schedule_auto_syncs(
    session: AsyncSession, due: Sequence[tuple[int, SyncType]]
) -> list[int]:
    """One scheduled job for each due account without an active one, in one INSERT: a tick
    with a thousand accounts due costs two statements, not two per account. A job another
    process created meanwhile wins (ON CONFLICT DO NOTHING on the one-active index)."""
    busy = set(
        await session.scalars(select(SyncJob.account_id).where(SyncJob.status.in_(ACTIVE_STATUSES)))
    )
    todo = [(account, kind.value) for account, kind in due if account not in busy]
    if not todo:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await _insert_unnested(session, todo)
    rows = [
        {
            "account_id": account_id,
            "sync_type": sync_type,
            "walk": sync_type,  # due work is FULL or INCREMENTAL: the walk is the type
            "trigger": "schedule",
            "status": SyncStatus.PENDING.value,
        }
        for account_id, sync_type in todo
    ]
    statement = sqlite_insert(SyncJob).on_conflict_do_nothing().returning(SyncJob.id)
    return list(await session.scalars(statement, rows))


async def _insert_unnested(session: AsyncSession, todo: Sequence[tuple[int, str]]) -> list[int]:
    """PostgreSQL: the jobs as INSERT ... SELECT FROM unnest(two arrays), so a thousand rows
    are two bound parameters rather than fifteen thousand (a third of a 1,000-account tick)."""
    source = (
        func.unnest(
            bindparam("ids", [a for a, _ in todo], type_=ARRAY(Integer)),
            bindparam("types", [t for _, t in todo], type_=ARRAY(String)),
        )
        .table_valued("account_id", "sync_type")
        .render_derived()
    )
    rows = select(
        source.c.account_id,
        source.c.sync_type,
        source.c.sync_type,
        literal("schedule"),
        literal(SyncStatus.PENDING.value),
    )
    statement = (
        postgresql_insert(SyncJob)
        .from_select(["account_id", "sync_type", "walk", "trigger", "status"], rows)
        .on_conflict_do_nothing()
        .returning(SyncJob.id)
    )
    return list(await session.scalars(statement))


async def get_job(session: AsyncSession, job_id: int) -> SyncJob:
    return await get_or_404(session, SyncJob, job_id, "sync job")


def jobs_query(
    *,
    account_id: int | None = None,
    status: str | None = None,
    account_ids: Sequence[int] | None = None,
) -> Select[SyncJob]:
    """Sync jobs, newest first, optionally of one account and in one status (and only of
    `account_ids`, a scoped key's accounts)."""
    query = select(SyncJob).order_by(SyncJob.created_at.desc(), SyncJob.id.desc())
    if account_ids is not None:
        query = query.where(SyncJob.account_id.in_(account_ids))
    if account_id is not None:
        query = query.where(SyncJob.account_id == account_id)
    if status is not None:
        query = query.where(SyncJob.status == status)
    return query


async def recent_jobs(
    session: AsyncSession, limit: int, account_ids: Sequence[int] | None = None
) -> Sequence[SyncJob]:
    return (await session.scalars(jobs_query(account_ids=account_ids).limit(limit))).all()


async def seconds_until_stale(
    session: AsyncSession, job_id: int, heartbeat_timeout: timedelta
) -> float | None:
    """How long until a RUNNING job's heartbeat lapses (None if the job is not RUNNING)."""
    job = await session.get(SyncJob, job_id)
    if job is None or job.status != SyncStatus.RUNNING:
        return None
    beat = job.heartbeat_at or job.started_at or utcnow()
    return max(0.5, (beat + heartbeat_timeout - utcnow()).total_seconds() + 0.5)


async def reap_stale_jobs(session: AsyncSession, heartbeat_timeout: timedelta) -> list[SyncJob]:
    """RUNNING jobs whose worker stopped beating are failed and retried (bounded)."""
    stale_before = utcnow() - heartbeat_timeout
    stale = (
        await session.scalars(
            select(SyncJob).where(
                SyncJob.status == SyncStatus.RUNNING, SyncJob.heartbeat_at < stale_before
            )
        )
    ).all()
    retries: list[SyncJob] = []
    for job in stale:
        job.status = SyncStatus.FAILED
        job.completed_at = utcnow()
        job.error_message = "the worker stopped sending heartbeats (killed or stuck)"
    await session.flush()
    for job in stale:
        if job.attempt < MAX_ATTEMPTS:
            retry = SyncJob(
                account_id=job.account_id,
                sync_type=job.sync_type,
                walk=job.walk,
                trigger="retry",
                status=SyncStatus.PENDING,
                attempt=job.attempt + 1,
            )
            session.add(retry)
            retries.append(retry)
    await session.flush()
    return retries


LOST_KICK_AFTER = timedelta(minutes=2)


async def due_pending_jobs(session: AsyncSession) -> Sequence[SyncJob]:
    """PENDING jobs whose time has come: rate-limit follow-ups, retries, and jobs whose
    queue message was lost (pending for a while with no schedule)."""
    now = utcnow()
    return (
        await session.scalars(
            select(SyncJob).where(
                SyncJob.status == SyncStatus.PENDING,
                (SyncJob.scheduled_for <= now)
                | (SyncJob.scheduled_for.is_(None) & (SyncJob.created_at < now - LOST_KICK_AFTER)),
            )
        )
    ).all()


MAX_FAILURE_BACKOFF = timedelta(days=1)


async def _failures_since_success(session: AsyncSession) -> dict[int, tuple[int, datetime]]:
    """Per account: how many jobs failed since its last successful sync, and when the last did."""
    rows = await session.execute(
        select(SyncJob.account_id, func.count(), func.max(SyncJob.completed_at))
        .join(InstagramAccount, InstagramAccount.id == SyncJob.account_id)
        .where(
            SyncJob.status == SyncStatus.FAILED,
            SyncJob.completed_at.is_not(None),
            InstagramAccount.last_sync_at.is_(None)
            | (SyncJob.completed_at > InstagramAccount.last_sync_at),
        )
        .group_by(SyncJob.account_id)
    )
    return {account_id: (n, last) for account_id, n, last in rows if last is not None}


def failure_backoff(frequency_minutes: int, failures: int) -> timedelta:
    """After N failures in a row the next auto sync waits frequency x 2^(N-1), at most a day."""
    wait: timedelta = timedelta(minutes=frequency_minutes) * 2 ** min(failures - 1, 10)
    return min(wait, MAX_FAILURE_BACKOFF)


async def accounts_due(session: AsyncSession) -> list[tuple[int, SyncType]]:
    """Accounts (ids) whose auto sync is due: INCREMENTAL every frequency, FULL once a day,
    and after failures an exponential backoff, so a broken account is not walked every tick.
    Only the columns the decision needs are read: a tick looks at every account."""
    now = utcnow()
    failures = await _failures_since_success(session)
    accounts = await session.execute(
        select(
            InstagramAccount.id,
            InstagramAccount.sync_blocked_until,
            InstagramAccount.sync_frequency_minutes,
            InstagramAccount.last_full_sync_at,
            InstagramAccount.last_sync_at,
        ).where(
            InstagramAccount.is_active.is_(True),
            InstagramAccount.auto_sync.is_(True),
            InstagramAccount.needs_reauth.is_(False),
        )
    )
    due: list[tuple[int, SyncType]] = []
    for account_id, blocked_until, frequency, last_full, last_sync in accounts:
        if blocked_until and blocked_until > now:
            continue
        failed, last_failure = failures.get(account_id, (0, None))
        if last_failure is not None and now < last_failure + failure_backoff(frequency, failed):
            continue
        if last_full is None or now - last_full >= timedelta(days=1):
            due.append((account_id, SyncType.FULL))
        elif last_sync is None or now - last_sync >= timedelta(minutes=frequency):
            due.append((account_id, SyncType.INCREMENTAL))
    return due


async def cancel_job(session: AsyncSession, job_id: int) -> SyncJob:
    """Ends a PENDING or RUNNING job as FAILED ("cancelled"); a worker running it loses its
    lease at its next heartbeat and stops, writing nothing more."""
    job = await get_or_404(session, SyncJob, job_id, "sync job")
    if job.status not in ACTIVE_STATUSES:
        raise Conflict(f"job {job_id} is already {job.status.lower()}")
    job.status = SyncStatus.FAILED
    job.completed_at = utcnow()
    job.error_message = "cancelled by an admin"
    await session.flush()
    return job
