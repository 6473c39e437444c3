"""The scheduler loop: one tick per interval, each tick idempotent (no pile-up).

Each tick also refreshes the per-account gauges and the queue depth: the scheduler is a single
process, so these series exist once however many API replicas and workers run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from prometheus_client import Gauge, Histogram

from instagram_service.db import Database, utcnow
from instagram_service.dependencies_check import one_line
from instagram_service.observability import get_logger
from instagram_service.settings import Settings
from instagram_service.worker.account_gauges import refresh_account_gauges
from instagram_service.worker.broker import broker
from instagram_service.worker.enqueue import enqueue
from instagram_service.worker.stream_broker import Backoff

log = get_logger(__name__)

EVERY_TICK = ("sync.scheduler_tick", "webhooks.sweep", "instagram_webhooks.sweep")
HOURLY = ("accounts.refresh_tokens", "media.cleanup")  # each refreshes/removes only what is due

TICK_SECONDS = Histogram(
    "igs_scheduler_tick_seconds",
    "Time to send one tick's tasks and refresh the gauges",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_DEPTH = Gauge("igs_task_queue_depth", "Tasks in the queue not yet delivered to a worker")
QUEUE_PENDING = Gauge(
    "igs_task_queue_pending", "Tasks delivered to a worker and not yet acknowledged"
)


async def _tick(ticks: int, interval_s: float, db: Database | None) -> None:
    for task_name in EVERY_TICK:
        await enqueue(task_name)
    if ticks % max(1, int(3600 / interval_s)) == 0:
        for task_name in HOURLY:
            await enqueue(task_name)
    queue_depth = getattr(broker, "queue_depth", None)
    if queue_depth is not None:
        waiting, pending = await queue_depth()
        QUEUE_DEPTH.set(waiting)
        QUEUE_PENDING.set(pending)
    if db is not None:
        await refresh_account_gauges(db, utcnow())


async def scheduler_loop(
    interval_s: float, db: Database | None = None, *, retry_max_s: float = 30.0
) -> None:
    """Send the due-work tasks through the broker, forever: syncs that are due, webhook
    retries and lost deliveries or events, and every hour the token refresh and the cleanup.
    A failed tick (Redis or the database down) is retried with backoff, one log line each."""
    backoff = Backoff(min(retry_max_s, interval_s))
    ticks = 0
    while True:
        started = time.perf_counter()
        try:
            await _tick(ticks, interval_s, db)
        except Exception as exc:  # a broker or database outage must not end the loop
            delay = backoff.next_delay()
            log.warning(f"scheduler tick failed, retrying in {delay:g}s: {one_line(exc)}")
            await asyncio.sleep(delay)
            continue
        TICK_SECONDS.observe(time.perf_counter() - started)
        if backoff.failures:
            log.info("scheduler tick succeeded again")
            backoff.reset()
        ticks += 1
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def background_scheduler(
    interval_s: float, db: Database | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(scheduler_loop(interval_s, db))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_scheduler_process(settings: Settings) -> None:
    """`instagram-service scheduler`: sends the ticks (by task name) to the Redis queue, and
    serves its metrics and probes on IGS_METRICS_PORT."""
    from instagram_service.worker.probes import dependency_checks, open_probe_port

    db = Database(settings.database_url, pool_size=2)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(db.dispose)
        await open_probe_port(stack, settings, dependency_checks(settings, db), 0)
        await broker.startup()
        stack.push_async_callback(broker.shutdown)
        log.info("scheduler started", interval_s=settings.scheduler_interval_s)
        await scheduler_loop(
            settings.scheduler_interval_s, db, retry_max_s=settings.redis_retry_max_s
        )
