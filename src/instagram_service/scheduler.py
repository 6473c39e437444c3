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

from instagram_service.account_gauges import refresh_account_gauges
from instagram_service.db import Database, utcnow
from instagram_service.dependencies_check import one_line
from instagram_service.observability import get_logger
from instagram_service.settings import Settings

log = get_logger(__name__)

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
    from instagram_service.accounts.tasks import refresh_tokens
    from instagram_service.media.tasks import cleanup
    from instagram_service.sync.tasks import scheduler_tick
    from instagram_service.webhooks.tasks import sweep
    from instagram_service.worker import broker

    await scheduler_tick.kiq()
    await sweep.kiq()  # webhook retries that are due, lost deliveries and events
    if ticks % max(1, int(3600 / interval_s)) == 0:
        await refresh_tokens.kiq()  # hourly check; refreshes only what is due
        await cleanup.kiq()
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
    """Kick `scheduler_tick` (and the token refresh) through the broker, forever. A failed
    tick (Redis or the database down) is retried with backoff, one log line per retry."""
    from instagram_service.stream_broker import Backoff

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
    """`instagram-service scheduler`: sends the ticks to the Redis queue for the workers."""
    from instagram_service.process_probes import dependency_checks, open_probe_port
    from instagram_service.worker import broker, import_task_modules

    import_task_modules()
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
