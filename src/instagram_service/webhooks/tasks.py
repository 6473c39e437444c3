"""Webhook tasks: thin wrappers that take ids and call the processing and delivery code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from instagram_service.db import utcnow
from instagram_service.models import WebhookEvent, WebhookEventStatus
from instagram_service.observability import get_logger
from instagram_service.runtime import get_runtime
from instagram_service.webhooks import delivery, processing
from instagram_service.worker import broker

log = get_logger(__name__)

# An event still `received` this long after arrival lost its queue message (a restart).
EVENT_LOST_AFTER = timedelta(minutes=10)


@broker.task(task_name="webhooks.process_event")
async def process_event(event_id: int) -> None:
    await processing.process_event(get_runtime(), event_id)


@broker.task(task_name="webhooks.deliver")
async def deliver(delivery_id: int) -> None:
    await delivery.run_delivery(get_runtime(), delivery_id)


@broker.task(task_name="webhooks.sweep")
async def sweep() -> None:
    """Kick due retries and anything whose queue message was lost. Idempotent: deliveries are
    claimed atomically, and processing an event twice refreshes the same media twice."""
    runtime = get_runtime()
    ids = await delivery.due_deliveries(runtime.db, runtime.settings.webhook_delivery_timeout_s)
    await kick_deliveries(ids)
    async with runtime.db.session() as session:
        events = await session.scalars(
            select(WebhookEvent.id).where(
                WebhookEvent.status == WebhookEventStatus.RECEIVED,
                WebhookEvent.received_at < utcnow() - EVENT_LOST_AFTER,
            )
        )
        event_ids = list(events)
    for event_id in event_ids:
        await kick_event(event_id)


async def kick_event(event_id: int) -> None:
    try:
        await process_event.kiq(event_id)
    except Exception as exc:  # stored already: the sweep finds it again
        log.warning("could not queue webhook event", event_id=event_id, error=str(exc))


async def kick_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        try:
            await deliver.kiq(delivery_id)
        except Exception as exc:  # the row is pending: the sweep finds it again
            log.warning("could not queue webhook delivery", delivery_id=delivery_id, error=str(exc))
