"""Webhook subscriptions: create (the secret shown once), test event, delivery log, redeliver."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.models import EVENT_TYPES, WebhookSubscription
from instagram_service.security import TokenCipher
from instagram_service.web.admin.console import Console, GlobalEditor, GlobalViewer
from instagram_service.web.admin.render import back, page
from instagram_service.webhooks import manual
from instagram_service.webhooks import subscriptions as service
from instagram_service.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate

router = APIRouter()
LOG_SIZE = 50


async def _list(request: Request, db: SessionDep, console: Console, **extra: Any) -> Response:
    rows = list(await db.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))
    return page(
        request, "webhooks.html", console, section="webhooks", title="Webhooks",
        subscriptions=rows, event_types=EVENT_TYPES, **extra,
    )  # fmt: skip


@router.get("/admin/webhooks")
async def webhooks_page(request: Request, db: SessionDep, console: GlobalViewer) -> Response:
    return await _list(request, db, console)


@router.post("/admin/webhooks")
async def create(
    request: Request, db: SessionDep, settings: SettingsDep, console: GlobalEditor
) -> Response:
    form = await request.form()
    try:
        body = SubscriptionCreate(
            url=str(form.get("url", "")).strip(),
            events=[str(e) for e in form.getlist("events")],
            description=str(form.get("description", "")).strip() or None,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await _list(request, db, console, error=problems, status_code=422)
    cipher = TokenCipher.from_settings(settings)
    subscription, secret = await service.create_subscription(db, settings, cipher, body)
    # Rendered, not redirected: the secret must not travel in a URL or a cookie.
    return await _list(request, db, console, created=subscription, secret=secret)


@router.get("/admin/webhooks/{subscription_id}")
async def deliveries(
    request: Request, subscription_id: IdPath, db: SessionDep, console: GlobalViewer
) -> Response:
    subscription = await service.get_subscription(db, subscription_id)
    log = list(await db.scalars(service.deliveries_query(subscription_id).limit(LOG_SIZE)))
    return page(
        request, "webhook.html", console, section="webhooks", title=subscription.url,
        subscription=subscription, deliveries=log,
    )  # fmt: skip


@router.post("/admin/webhooks/{subscription_id}/test")
async def test_event(subscription_id: IdPath, db: SessionDep, console: GlobalEditor) -> Response:
    delivery = await manual.send_test_event(db, subscription_id)
    return back(f"/admin/webhooks/{subscription_id}", f"Test event {delivery.event_id} queued.")


@router.post("/admin/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    subscription_id: IdPath, delivery_id: IdPath, db: SessionDep, console: GlobalEditor
) -> Response:
    delivery = await manual.redeliver(db, subscription_id, delivery_id)
    return back(f"/admin/webhooks/{subscription_id}", f"Event {delivery.event_id} sent again.")


@router.post("/admin/webhooks/{subscription_id}/active")
async def set_active(
    request: Request, subscription_id: IdPath, db: SessionDep, settings: SettingsDep,
    console: GlobalEditor,
) -> Response:  # fmt: skip
    enabled = (await request.form()).get("enabled") == "true"
    await service.update_subscription(
        db, settings, subscription_id, SubscriptionUpdate(is_active=enabled)
    )
    return back(f"/admin/webhooks/{subscription_id}", "Enabled." if enabled else "Disabled.")


@router.post("/admin/webhooks/{subscription_id}/delete")
async def delete(subscription_id: IdPath, db: SessionDep, console: GlobalEditor) -> Response:
    await service.delete_subscription(db, subscription_id)
    return back("/admin/webhooks", "Subscription deleted with its delivery log.")
