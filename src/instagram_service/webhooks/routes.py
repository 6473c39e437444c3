"""The admin API of outgoing webhook subscriptions and their deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

from instagram_service.apikeys.auth import GlobalAdminKey as AdminKey
from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND
from instagram_service.kit.pagination import Limit, Offset, paginate
from instagram_service.models import WebhookSubscription
from instagram_service.security import TokenCipher
from instagram_service.webhooks import subscriptions as service
from instagram_service.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionUpdate,
)

router = APIRouter(
    prefix="/api/v1/webhook-subscriptions",
    tags=["webhook subscriptions"],
    responses=ADMIN_ERRORS,
)


@router.get("", response_model=SubscriptionPage)
async def list_subscriptions(
    session: SessionDep, _: AdminKey, limit: Limit = 50, offset: Offset = 0
) -> SubscriptionPage:
    """List outgoing webhook subscriptions, oldest first."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    return await paginate(
        session, query, SubscriptionPage, SubscriptionOut, limit=limit, offset=offset
    )


@router.post("", response_model=SubscriptionCreated, status_code=201)
async def create_subscription(
    body: SubscriptionCreate, session: SessionDep, settings: SettingsDep, _: AdminKey
) -> SubscriptionCreated:
    """Subscribe a URL to events; the response shows the signing secret, once."""
    cipher = TokenCipher.from_settings(settings)
    subscription, secret = await service.create_subscription(session, settings, cipher, body)
    out = SubscriptionOut.model_validate(subscription)
    return SubscriptionCreated(**out.model_dump(), secret=secret)


@router.get("/{subscription_id}", response_model=SubscriptionOut, responses=NOT_FOUND)
async def get_subscription(
    subscription_id: IdPath, session: SessionDep, _: AdminKey
) -> SubscriptionOut:
    """One subscription (without its secret)."""
    return SubscriptionOut.model_validate(await service.get_subscription(session, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut, responses=NOT_FOUND)
async def update_subscription(
    subscription_id: IdPath,
    body: SubscriptionUpdate,
    session: SessionDep,
    settings: SettingsDep,
    _: AdminKey,
) -> SubscriptionOut:
    """Change the URL, events or description; `is_active: true` re-enables it."""
    subscription = await service.update_subscription(session, settings, subscription_id, body)
    return SubscriptionOut.model_validate(subscription)


@router.delete("/{subscription_id}", status_code=204, responses=NOT_FOUND)
async def delete_subscription(subscription_id: IdPath, session: SessionDep, _: AdminKey) -> None:
    """Delete a subscription and its delivery history."""
    await service.delete_subscription(session, subscription_id)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND)
async def list_deliveries(
    subscription_id: IdPath,
    session: SessionDep,
    _: AdminKey,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> DeliveryPage:
    """Delivery attempts, newest first: one row per attempt."""
    await service.get_subscription(session, subscription_id)  # 404 for an unknown one
    query = service.deliveries_query(subscription_id)
    return await paginate(session, query, DeliveryPage, DeliveryOut, limit=limit, offset=offset)
