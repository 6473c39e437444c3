"""The sync engine: walks an account's media pages and mirrors them into our rows.

Each page is committed on its own, so a crash loses at most the page in flight and the
next run completes the rest. Deletions are applied only after a complete FULL walk.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from instagram_service.accounts.profile import apply_profile
from instagram_service.accounts.service import mark_needs_reauth
from instagram_service.container import Container
from instagram_service.db import Database, utcnow
from instagram_service.events.outbox import record_event
from instagram_service.instagram.client import CallStats, InstagramClient
from instagram_service.instagram.errors import (
    InstagramError,
    PermissionDenied,
    RateLimited,
    TokenInvalid,
)
from instagram_service.models import (
    InstagramAccount,
    InstagramPost,
    SyncJob,
    SyncStatus,
    SyncType,
)
from instagram_service.observability import (
    POSTS_SYNCED,
    SYNC_JOB_SECONDS,
    SYNC_JOBS,
    get_logger,
)
from instagram_service.posts.cache import drops_deferred
from instagram_service.posts.changes import (
    record_page_changes,
    record_removed,
    record_sync_summary,
)
from instagram_service.posts.visibility import is_public
from instagram_service.security import TokenCipher
from instagram_service.sync import ports
from instagram_service.sync.lease import LeaseLost, claim_job, heartbeat, holds
from instagram_service.sync.ports import MediaOutcome, MediaPort, ModerationPort
from instagram_service.sync.refresh import fetch_images, store
from instagram_service.sync.upsert import Outcome

log = get_logger(__name__)

MEDIA_CHUNK = 6  # posts whose images are processed (in parallel) between progress updates


@dataclass
class Progress:
    """What a progress bar shows; the engine calls back after every post, page and batch of
    images."""

    pages: int = 0
    posts: int = 0
    images: int = 0
    on_post: Callable[[Progress], None] | None = None
    on_page: Callable[[Progress], None] | None = None
    on_images: Callable[[Progress], None] | None = None


@dataclass
class SyncContext:
    db: Database
    client: InstagramClient
    cipher: TokenCipher
    moderation: ModerationPort
    media: MediaPort
    page_size: int
    heartbeat_timeout: timedelta = timedelta(minutes=5)
    progress: Progress = field(default_factory=Progress)
    public_base_url: str = ""
    media_public_url: str = ""

    @classmethod
    def of(cls, container: Container, progress: Progress | None = None) -> SyncContext:
        settings = container.settings
        return cls(
            db=container.db,
            client=container.client,
            cipher=container.cipher,
            moderation=container.get(ports.MODERATION),
            media=container.get(ports.MEDIA),
            page_size=settings.page_size,
            heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout_s),
            progress=progress or Progress(),
            public_base_url=settings.public_base_url,
            media_public_url=settings.media_public_url,
        )


class SyncAborted(Exception):
    """Raised inside the walk to end the job with a recorded status."""


async def run_sync_job(ctx: SyncContext, job_id: int) -> SyncJob | None:
    """Run one claimed sync job to its end state. Returns the finished job row.

    The gallery cache sees the job's commits within a second and its end at once (see
    `drops_deferred`), so a sync in the API's process does not stall the gallery."""
    with drops_deferred():
        return await _run_sync_job(ctx, job_id)


async def _run_sync_job(ctx: SyncContext, job_id: int) -> SyncJob | None:
    lease = await claim_job(ctx.db, job_id, ctx.heartbeat_timeout)
    if lease is None:
        log.info("sync job not claimable (already running or finished)", job_id=job_id)
        return None
    async with ctx.db.session() as session:
        job = await session.get(SyncJob, job_id)
        assert job is not None
        account = await session.get(InstagramAccount, job.account_id)
        assert account is not None
        account_id, walk = job.account_id, job.walk
        encrypted, user_id = account.access_token_encrypted, account.instagram_user_id
        refusal = _refusal(account)
    stats = CallStats()
    counters = _Counters()
    error: BaseException | None = None
    try:
        if refusal is not None:
            raise SyncAborted(refusal)  # queued before the account was stopped: not run
        token = ctx.cipher.decrypt(encrypted)
        await ctx.client.remember_user(token, user_id)
        seen = await _walk(ctx, job_id, lease, account_id, token, walk, stats, counters)
        if walk == SyncType.FULL:
            counters.deleted, removed = await _soft_delete_missing(ctx.db, account_id, seen)
            counters.public_changes += removed
    except LeaseLost:
        log.warning("sync job taken over by another worker; stopping", job_id=job_id)
        return None
    except BaseException as exc:  # recorded on the job below; re-raised if not an Exception
        error = exc
    return await _finish(ctx, job_id, lease, account_id, walk, stats, counters, error)


def _refusal(account: InstagramAccount) -> str | None:
    if account.needs_reauth:
        return "not run: the account must be reconnected first"
    if not account.is_active:
        return "not run: the account is deactivated"
    return None


@dataclass
class _Counters:
    processed: int = 0
    added: int = 0
    updated: int = 0
    failed: int = 0
    deleted: int = 0
    refreshed: int = 0  # only their CDN links changed
    public_changes: int = 0


async def _walk(
    ctx: SyncContext,
    job_id: int,
    lease: datetime,
    account_id: int,
    token: str,
    walk: str,
    stats: CallStats,
    counters: _Counters,
) -> set[str]:
    seen: set[str] = set()
    profile = await ctx.client.get_me(token, stats) if walk == SyncType.FULL else None
    async with ctx.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        max_recent = account.max_posts_to_sync
        if profile is not None:  # followers feed the engagement-rate rules
            apply_profile(account, profile)
            await ctx.media.store_avatar(account)
    pages = ctx.client.iter_media_pages(token, "me", limit=ctx.page_size, stats=stats)
    async for page in pages:
        refreshed = await store(
            ctx.db, ctx.moderation, account_id, page.items,
            on_post=lambda outcome: _count(ctx, counters, outcome),
        )  # fmt: skip
        seen.update(item.id for item in page.items)
        ctx.progress.pages += 1
        ids = [item.id for item in page.items]
        # For a progress bar, in chunks: it counts images as they come in, not once per page.
        # Without one, the whole page at once, which keeps every download and encoder slot busy.
        chunk = MEDIA_CHUNK if ctx.progress.on_images else None
        async with _beating(ctx, job_id, lease, counters, stats):
            await fetch_images(
                ctx.db, ctx.media, account_id, token, ids, chunk=chunk,
                on_chunk=lambda outcome: _count_images(ctx, counters, outcome),
            )  # fmt: skip
        async with ctx.db.session() as session:
            counters.public_changes += await record_page_changes(
                session,
                refreshed.changes,
                base_url=ctx.public_base_url,
                media_url=ctx.media_public_url,
            )
        if ctx.progress.on_page:
            ctx.progress.on_page(ctx.progress)
        await heartbeat(ctx.db, job_id, lease, _job_counters(counters, stats))
        if walk == SyncType.INCREMENTAL and refreshed.known and len(seen) >= max_recent:
            break  # met posts we have, and refreshed the newest max_posts_to_sync
    return seen


def _count(ctx: SyncContext, counters: _Counters, outcome: Outcome) -> None:
    """One stored post: the job's counters, the metric and the progress bar."""
    counters.processed += 1
    if outcome is Outcome.ADDED:
        counters.added += 1
    elif outcome is Outcome.UPDATED:
        counters.updated += 1
    elif outcome is Outcome.REFRESHED:
        counters.refreshed += 1
    POSTS_SYNCED.labels(outcome.value).inc()
    ctx.progress.posts += 1
    if ctx.progress.on_post:
        ctx.progress.on_post(ctx.progress)


@asynccontextmanager
async def _beating(
    ctx: SyncContext, job_id: int, lease: datetime, counters: _Counters, stats: CallStats
) -> AsyncIterator[None]:
    """Heartbeats while a page's images are processed: on a busy machine a page of albums can
    take longer than the heartbeat timeout, and its job must not be taken over meanwhile."""
    every = max(1.0, ctx.heartbeat_timeout.total_seconds() / 3)

    async def beat() -> None:
        with contextlib.suppress(LeaseLost, Exception):  # the page's own heartbeat says why
            while True:
                await asyncio.sleep(every)
                await heartbeat(ctx.db, job_id, lease, _job_counters(counters, stats))

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _count_images(ctx: SyncContext, counters: _Counters, outcome: MediaOutcome) -> None:
    counters.failed += len(outcome.failed_post_ids)
    ctx.progress.images += outcome.images_done
    if ctx.progress.on_images:
        ctx.progress.on_images(ctx.progress)


def _job_counters(counters: _Counters, stats: CallStats) -> dict[str, int]:
    """The job's columns that the heartbeat and the end of the job write."""
    return {
        "posts_processed": counters.processed,
        "posts_added": counters.added,
        "posts_updated": counters.updated,
        "posts_failed": counters.failed,
        "api_calls_made": stats.calls,
    }


async def _soft_delete_missing(db: Database, account_id: int, seen: set[str]) -> tuple[int, int]:
    """After a complete FULL walk only: posts Instagram no longer lists leave the gallery."""
    async with db.session() as session:
        rows = await session.scalars(
            select(InstagramPost).where(
                InstagramPost.account_id == account_id, InstagramPost.deleted_at.is_(None)
            )
        )
        now = utcnow()
        gone = [post for post in rows if post.instagram_id not in seen]
        visible = [post for post in gone if is_public(post)]
        for post in gone:
            post.deleted_at = now
        await record_removed(session, visible)
        return len(gone), len(visible)


async def _finish(
    ctx: SyncContext,
    job_id: int,
    lease: datetime,
    account_id: int,
    walk: str,
    stats: CallStats,
    counters: _Counters,
    error: BaseException | None,
) -> SyncJob:
    async with ctx.db.session() as session:
        job = await session.get(SyncJob, job_id)
        account = await session.get(InstagramAccount, account_id)
        assert job is not None
        assert account is not None
        if not holds(job, lease):
            log.warning("sync job taken over or reaped meanwhile; result dropped", job_id=job_id)
            if error is not None and not isinstance(error, Exception):
                raise error
            return job
        now = utcnow()
        if _not_started_yet(error, stats):
            assert isinstance(error, RateLimited)
            _reschedule(job, account, error, now)
            return job
        job.completed_at = now
        job.heartbeat_at = now
        for column, value in _job_counters(counters, stats).items():
            setattr(job, column, value)
        job.posts_deleted = counters.deleted
        job.rate_limit_hit = stats.rate_limit_hit or isinstance(error, RateLimited)
        if error is None:
            job.status = SyncStatus.COMPLETED
            job.error_message = None  # a wait before a rescheduled start, no longer true
            account.last_sync_at = now
            if walk == SyncType.FULL:
                account.last_full_sync_at = now
        else:
            job.status = SyncStatus.FAILED
            job.error_message = _describe(error, job, account)
            await session.flush()  # the job stops being active before a follow-up is added
            if isinstance(error, RateLimited) and job.retry_after is not None:
                session.add(_follow_up(job, job.retry_after))
            if not isinstance(error, SyncAborted):  # a job not run tells the CMS nothing new
                await record_event(session, "sync.failed", _failure_data(job, account))
            if isinstance(error, TokenInvalid):
                await mark_needs_reauth(session, account, error.reason)
        await record_sync_summary(session, job_id, counters.public_changes)
        SYNC_JOBS.labels(job.status).inc()
        SYNC_JOB_SECONDS.labels(str(walk), job.status).observe((now - lease).total_seconds())
    if error is not None and not isinstance(error, Exception):
        raise error  # KeyboardInterrupt, CancelledError: recorded, then propagated
    log.info(
        "sync job finished",
        job_id=job_id,
        status=job.status,
        processed=counters.processed,
        added=counters.added,
        updated=counters.updated,
        refreshed=counters.refreshed,
        failed=counters.failed,
        deleted=counters.deleted,
        api_calls=stats.calls,
    )
    return job


def _not_started_yet(error: BaseException | None, stats: CallStats) -> bool:
    """Our own limiter refused the first call: the job could not start, it did not fail."""
    return isinstance(error, RateLimited) and error.from_limiter and stats.calls == 0


def _reschedule(job: SyncJob, account: InstagramAccount, error: RateLimited, now: datetime) -> None:
    """Back to PENDING for the time the budget reopens (the scheduler starts it then): no
    FAILED row, no follow-up job, no sync.failed event."""
    when = now + timedelta(seconds=max(error.retry_after_s or 60.0, 1.0))
    job.status = SyncStatus.PENDING
    job.started_at = job.heartbeat_at = None
    job.scheduled_for = job.retry_after = when
    job.rate_limit_hit = True
    job.error_message = f"waiting for Instagram's rate limit until {when:%Y-%m-%d %H:%M:%S} UTC"
    account.sync_blocked_until = max(account.sync_blocked_until or when, when)
    log.info("sync job rescheduled: rate limited before its first call", job_id=job.id)


def _failure_data(job: SyncJob, account: InstagramAccount) -> dict[str, object]:
    return {
        "job_id": job.id,
        "account_id": account.id,
        "username": account.username,
        "error": job.error_message,
        "rate_limited": job.rate_limit_hit,
        "retry_after": job.retry_after.isoformat() if job.retry_after else None,
    }


def _follow_up(job: SyncJob, when: datetime) -> SyncJob:
    return SyncJob(
        account_id=job.account_id,
        sync_type=job.sync_type,
        walk=job.walk,
        trigger="rate_limit",
        status=SyncStatus.PENDING,
        scheduled_for=when,
        attempt=job.attempt + 1,
    )


def _describe(error: BaseException, job: SyncJob, account: InstagramAccount) -> str:
    if isinstance(error, SyncAborted):
        return str(error)
    if isinstance(error, TokenInvalid):
        return f"token invalid, the account must be reconnected: {error}"
    if isinstance(error, RateLimited):
        retry_s = error.retry_after_s if error.retry_after_s is not None else 3600.0
        retry_at = utcnow() + timedelta(seconds=retry_s)
        job.retry_after = retry_at
        account.sync_blocked_until = retry_at
        when = f"{retry_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"rate limited by Instagram; a follow-up sync is scheduled for {when}: {error}"
    if isinstance(error, PermissionDenied):
        return f"permission missing: {error}"
    if isinstance(error, InstagramError):
        return str(error)
    return f"{type(error).__name__}: {error}"
