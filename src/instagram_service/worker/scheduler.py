"""The scheduler loop: one tick per interval, each tick idempotent (no pile-up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from instagram_service.observability import get_logger
from instagram_service.settings import Settings
from instagram_service.worker.broker import broker
from instagram_service.worker.enqueue import enqueue

log = get_logger(__name__)

EVERY_TICK = ("sync.scheduler_tick", "webhooks.sweep", "instagram_webhooks.sweep")
HOURLY = ("accounts.refresh_tokens", "media.cleanup")  # each refreshes/removes only what is due


async def scheduler_loop(interval_s: float) -> None:
    """Send the due-work tasks through the broker, forever: syncs that are due, webhook
    retries and lost deliveries or events, and every hour the token refresh and the cleanup."""
    ticks = 0
    while True:
        try:
            for task_name in EVERY_TICK:
                await enqueue(task_name)
            if ticks % max(1, int(3600 / interval_s)) == 0:
                for task_name in HOURLY:
                    await enqueue(task_name)
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
    """`instagram-service scheduler`: sends the ticks (by task name) to the Redis queue."""
    await broker.startup()
    log.info("scheduler started", interval_s=settings.scheduler_interval_s)
    try:
        await scheduler_loop(settings.scheduler_interval_s)
    finally:
        await broker.shutdown()
