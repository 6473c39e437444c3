"""Outgoing webhook subscriptions: create, change, delete, and their delivery history."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import get_or_404
from instagram_service.models import WebhookDelivery, WebhookSubscription
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings
from instagram_service.webhooks.schemas import (
    SECRET_PREFIX,
    SubscriptionCreate,
    SubscriptionUpdate,
)
from instagram_service.webhooks.targets import check_target

SECRET_BYTES = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


async def create_subscription(
    session: AsyncSession, settings: Settings, cipher: TokenCipher, data: SubscriptionCreate
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its plain secret (to show once)."""
    await check_target(data.url, allow_private=settings.webhook_allow_private_targets)
    secret = data.secret or generate_secret()
    subscription = WebhookSubscription(
        url=data.url.strip(),
        description=data.description,
        events=list(data.events),
        is_active=data.is_active,
        consecutive_failures=0,
        secret_encrypted=cipher.encrypt(secret),
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def list_subscriptions(session: AsyncSession) -> Sequence[WebhookSubscription]:
    return (
        await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
    ).all()


async def get_subscription(session: AsyncSession, subscription_id: int) -> WebhookSubscription:
    return await get_or_404(session, WebhookSubscription, subscription_id, "webhook subscription")


async def update_subscription(
    session: AsyncSession, settings: Settings, subscription_id: int, data: SubscriptionUpdate
) -> WebhookSubscription:
    subscription = await get_subscription(session, subscription_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        await check_target(changes["url"], allow_private=settings.webhook_allow_private_targets)
        subscription.url = changes["url"].strip()
    if changes.get("events") is not None:
        subscription.events = list(changes["events"])
    if "description" in changes:
        subscription.description = changes["description"]
    if changes.get("is_active") is True and not subscription.is_active:
        subscription.consecutive_failures = 0
        subscription.disabled_at = None
        subscription.disabled_reason = None
    if changes.get("is_active") is not None:
        subscription.is_active = changes["is_active"]
    await session.flush()
    return subscription


async def delete_subscription(session: AsyncSession, subscription_id: int) -> None:
    subscription = await get_subscription(session, subscription_id)
    await session.delete(subscription)
    await session.flush()


async def list_deliveries(
    session: AsyncSession, subscription_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[Sequence[WebhookDelivery], int]:
    await get_subscription(session, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)
    )
    return rows.all(), total or 0
