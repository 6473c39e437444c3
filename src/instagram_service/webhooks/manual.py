"""Deliveries an admin asks for: a test event to one subscription, a redelivery."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import get_or_404, utcnow
from instagram_service.errors import Conflict
from instagram_service.events.outbox import DELIVER_TASK, event_body, new_event_id
from instagram_service.models import DeliveryStatus, WebhookDelivery
from instagram_service.webhooks.subscriptions import get_subscription
from instagram_service.worker.enqueue import enqueue_after_commit

TEST_EVENT = "webhook.test"  # not subscribable: sent only on request, to one subscription


async def send_test_event(session: AsyncSession, subscription_id: int) -> WebhookDelivery:
    """A signed `webhook.test` event to this subscription only (queued after the commit)."""
    subscription = await get_subscription(session, subscription_id)
    if not subscription.is_active:
        raise Conflict("the subscription is disabled: enable it to send a test event")
    event_id = new_event_id()
    data = {"message": "A test event from the admin console.", "subscription_id": subscription.id}
    delivery = WebhookDelivery(
        subscription_id=subscription.id,
        event_id=event_id,
        event_type=TEST_EVENT,
        payload=event_body(event_id, TEST_EVENT, data, utcnow()),
        attempt=1,
        status=DeliveryStatus.PENDING,
    )
    return await _add(session, delivery)


async def redeliver(
    session: AsyncSession, subscription_id: int, delivery_id: int
) -> WebhookDelivery:
    """Send a delivered (or failed) event again: a new attempt row with the same event id and
    body, so that a receiver that already has it can tell."""
    old = await get_or_404(session, WebhookDelivery, delivery_id, "webhook delivery")
    if old.subscription_id != subscription_id:
        raise Conflict(f"delivery {delivery_id} belongs to another subscription")
    subscription = await get_subscription(session, subscription_id)
    if not subscription.is_active:
        raise Conflict("the subscription is disabled: enable it to redeliver")
    delivery = WebhookDelivery(
        subscription_id=old.subscription_id,
        event_id=old.event_id,
        event_type=old.event_type,
        payload=old.payload,
        attempt=1,
        status=DeliveryStatus.PENDING,
    )
    return await _add(session, delivery)


async def _add(session: AsyncSession, delivery: WebhookDelivery) -> WebhookDelivery:
    session.add(delivery)
    await session.flush()
    enqueue_after_commit(session, DELIVER_TASK, delivery.id)
    return delivery
