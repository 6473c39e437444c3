"""Outgoing webhook subscriptions: create, change, delete, and their delivery history."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import Select, select
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


def deliveries_query(subscription_id: int) -> Select[WebhookDelivery]:
    """A subscription's delivery attempts, newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
    )
