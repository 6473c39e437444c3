"""Incoming webhook tasks: process a stored event; find events whose queue message was lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from taskiq import async_shared_broker

from instagram_service.container import ContainerDep
from instagram_service.db import utcnow
from instagram_service.instagram_webhooks import processing
from instagram_service.models import WebhookEvent, WebhookEventStatus
from instagram_service.worker.enqueue import enqueue_or_log

# An event still `received` this long after arrival lost its queue message (a restart).
EVENT_LOST_AFTER = timedelta(minutes=10)


@async_shared_broker.task(task_name="instagram_webhooks.process_event")
async def process_event(event_id: int, container: ContainerDep) -> None:
    await processing.process_event(container, event_id)


@async_shared_broker.task(task_name="instagram_webhooks.sweep")
async def sweep(container: ContainerDep) -> None:
    """Queue again what lost its queue message. Idempotent: processing an event twice
    refreshes the same media twice."""
    async with container.db.session() as session:
        events = await session.scalars(
            select(WebhookEvent.id).where(
                WebhookEvent.status == WebhookEventStatus.RECEIVED,
                WebhookEvent.received_at < utcnow() - EVENT_LOST_AFTER,
            )
        )
        event_ids = list(events)
    for event_id in event_ids:
        await enqueue_or_log("instagram_webhooks.process_event", event_id)
