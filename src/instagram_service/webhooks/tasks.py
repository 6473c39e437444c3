"""Outgoing webhook tasks: deliver one attempt; sweep due retries and lost deliveries."""

from __future__ import annotations

from taskiq import async_shared_broker

from instagram_service.container import ContainerDep
from instagram_service.events.outbox import DELIVER_TASK
from instagram_service.webhooks import delivery
from instagram_service.worker.enqueue import enqueue_or_log


@async_shared_broker.task(task_name=DELIVER_TASK)
async def deliver(delivery_id: int, container: ContainerDep) -> None:
    await delivery.run_delivery(container, delivery_id)


@async_shared_broker.task(task_name="webhooks.sweep")
async def sweep(container: ContainerDep) -> None:
    """Queue due retries and anything whose queue message was lost. Idempotent: deliveries
    are claimed atomically."""
    timeout_s = container.settings.webhook_delivery_timeout_s
    for delivery_id in await delivery.due_deliveries(container.db, timeout_s):
        await enqueue_or_log(DELIVER_TASK, delivery_id)
