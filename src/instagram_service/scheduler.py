"""The scheduler loop: one tick per interval, each tick idempotent (no pile-up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from instagram_service.observability import get_logger
from instagram_service.settings import Settings

log = get_logger(__name__)


async def scheduler_loop(interval_s: float) -> None:
    """Kick `scheduler_tick` (and the token refresh) through the broker, forever."""
    from instagram_service.accounts.tasks import refresh_tokens
    from instagram_service.media.tasks import cleanup
    from instagram_service.sync.tasks import scheduler_tick
    from instagram_service.webhooks.tasks import sweep

    ticks = 0
    while True:
        try:
            await scheduler_tick.kiq()
            await sweep.kiq()  # webhook retries that are due, lost deliveries and events
            if ticks % max(1, int(3600 / interval_s)) == 0:
                await refresh_tokens.kiq()  # hourly check; refreshes only what is due
                await cleanup.kiq()
        except Exception as exc:  # a broker hiccup must not end the loop
            log.warning("scheduler tick failed", error=str(exc))
        ticks += 1
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def background_scheduler(interval_s: float) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(scheduler_loop(interval_s))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_scheduler_process(settings: Settings) -> None:
    """`instagram-service scheduler`: sends the ticks to the Redis queue for the workers."""
    from instagram_service.worker import broker, import_task_modules

    import_task_modules()
    await broker.startup()
    log.info("scheduler started", interval_s=settings.scheduler_interval_s)
    try:
        await scheduler_loop(settings.scheduler_interval_s)
    finally:
        await broker.shutdown()
