"""Recording outgoing events: producers (sync, accounts, moderation, incoming webhooks) call
these with their own session.

Each call records one pending delivery per active subscription that wants the event type,
in the caller's transaction, and queues the deliveries (by task name) once that transaction
commits: a rollback sends nothing, and a lost queue message is found again by the sweep task.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import utcnow
from instagram_service.models import (
    EVENT_TYPES,
    DeliveryStatus,
    InstagramAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from instagram_service.worker.enqueue import enqueue_after_commit

DELIVER_TASK = "webhooks.deliver"


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event_body(event_id: str, event_type: str, data: dict[str, Any], at: datetime) -> str:
    envelope = {
        "id": event_id,
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str)


async def has_subscribers(session: AsyncSession) -> bool:
    found = await session.scalar(
        select(WebhookSubscription.id).where(WebhookSubscription.is_active.is_(True)).limit(1)
    )
    return found is not None


async def record_event(session: AsyncSession, event_type: str, data: dict[str, Any]) -> list[int]:
    """Record the event for every active subscription wanting it; returns the delivery ids."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; known: {EVENT_TYPES}")
    subscriptions = await session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.is_active.is_(True))
        .order_by(WebhookSubscription.id)
    )
    # Few subscriptions: filtering the JSON list here is portable across SQLite and PostgreSQL.
    wanted = [s for s in subscriptions if event_type in (s.events or ())]
    if not wanted:
        return []
    event_id = new_event_id()
    body = event_body(event_id, event_type, data, utcnow())
    rows = [
        WebhookDelivery(
            subscription_id=s.id,
            event_id=event_id,
            event_type=event_type,
            payload=body,
            attempt=1,
            status=DeliveryStatus.PENDING,
        )
        for s in wanted
    ]
    session.add_all(rows)
    await session.flush()
    ids = [row.id for row in rows]
    for delivery_id in ids:  # the row is pending: if a send fails, the sweep finds it again
        enqueue_after_commit(session, DELIVER_TASK, delivery_id)
    return ids


async def record_gallery_changed(session: AsyncSession, reason: str) -> list[int]:
    return await record_event(session, "gallery.changed", {"reason": reason})


async def record_account_needs_reauth(
    session: AsyncSession, account: InstagramAccount, reason: str
) -> list[int]:
    data = {"account_id": account.id, "username": account.username, "reason": reason}
    return await record_event(session, "account.needs_reauth", data)
