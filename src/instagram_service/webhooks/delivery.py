"""One delivery attempt: claim the row, POST the Standard Webhooks-signed body, record it.

Retries: a failed attempt adds the next attempt as a new pending row due after the configured
delay. The delivery task waits for a retry due within `webhook_retry_inline_max_s`; later
ones are kicked by `sweep` (run every scheduler tick), so no worker sleeps for long.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from prometheus_client import Counter
from sqlalchemy import func, select, update
from standardwebhooks import Webhook

from instagram_service import __version__
from instagram_service.container import Container
from instagram_service.db import Database, utcnow
from instagram_service.events.outbox import DELIVER_TASK
from instagram_service.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from instagram_service.observability import get_logger
from instagram_service.settings import Settings
from instagram_service.webhooks.targets import TargetRefused, check_target
from instagram_service.worker.enqueue import enqueue_after_commit

log = get_logger(__name__)

SUBSCRIPTIONS_DISABLED = Counter(
    "igs_webhook_subscriptions_disabled_total",
    "Outgoing webhook subscriptions disabled after repeated failed deliveries",
)

DELIVERIES = Counter(
    "igs_webhook_deliveries_total",
    "Outgoing webhook delivery attempts: delivered, failed (will retry), or failed for good",
    ["outcome"],
)
for _outcome in ("delivered", "retrying", "failed"):
    DELIVERIES.labels(_outcome)

LOST_AFTER = timedelta(minutes=2)  # a pending row this late was never kicked (or lost)
MAX_ERROR_CHARS = 1000


@dataclass
class Claimed:
    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    event_id: str
    payload: str
    attempt: int


@dataclass
class Result:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


async def run_delivery(container: Container, delivery_id: int) -> None:
    settings = container.settings
    due = await _due_at(container.db, delivery_id)
    if due is None:
        return
    wait = (due - utcnow()).total_seconds()
    if wait > settings.webhook_retry_inline_max_s:
        return  # the sweep kicks it when due
    if wait > 0:
        await asyncio.sleep(wait)
    claimed = await _claim(container, delivery_id)
    if claimed is None:
        return
    result = await send(settings, claimed)
    await _record(container, claimed, result)


async def _due_at(db: Database, delivery_id: int) -> datetime | None:
    """When a pending delivery may be sent; None if there is nothing to send."""
    async with db.session() as session:
        row = await session.get(WebhookDelivery, delivery_id)
        if row is None or row.status != DeliveryStatus.PENDING:
            return None
        subscription = await session.get(WebhookSubscription, row.subscription_id)
        if subscription is None or not subscription.is_active:
            row.status = DeliveryStatus.CANCELLED
            row.error = "the subscription is disabled"
            return None
        return row.next_attempt_at or row.created_at


async def _claim(container: Container, delivery_id: int) -> Claimed | None:
    """Atomically move pending -> sending, so two workers never send the same attempt."""
    now = utcnow()
    async with container.db.session() as session:
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.SENDING, next_attempt_at=now)
        )
        if not getattr(result, "rowcount", 0):
            return None
        row = await session.get(WebhookDelivery, delivery_id)
        assert row is not None
        subscription = await session.get(WebhookSubscription, row.subscription_id)
        assert subscription is not None
        if not subscription.is_active:  # disabled while this attempt waited
            row.status = DeliveryStatus.CANCELLED
            row.error = "the subscription is disabled"
            return None
        return Claimed(
            delivery_id=row.id,
            subscription_id=subscription.id,
            url=subscription.url,
            secret=container.cipher.decrypt(subscription.secret_encrypted),
            event_id=row.event_id,
            payload=row.payload,
            attempt=row.attempt,
        )


def signed_headers(secret: str, event_id: str, payload: str, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": f"instagram-service/{__version__}",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, payload),
    }


async def send(settings: Settings, claimed: Claimed) -> Result:
    started = time.monotonic()

    def done(status_code: int | None, error: str | None) -> Result:
        duration = int((time.monotonic() - started) * 1000)
        return Result(status_code, duration, error[:MAX_ERROR_CHARS] if error else None)

    try:
        target = await check_target(
            claimed.url, allow_private=settings.webhook_allow_private_targets
        )
    except TargetRefused as exc:
        return done(None, f"refused: {exc.message}")
    headers = signed_headers(claimed.secret, claimed.event_id, claimed.payload, utcnow())
    timeout = httpx.Timeout(settings.webhook_delivery_timeout_s)
    try:
        # No redirects (they could lead anywhere) and no proxy from the environment.
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                target.url,
                content=claimed.payload.encode(),
                headers={**headers, **target.headers},
                extensions=target.extensions,
            ) as response,
        ):
            status = response.status_code
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}".rstrip(": "))
    return done(status, None if 200 <= status < 300 else f"HTTP {status}")


async def _record(container: Container, claimed: Claimed, result: Result) -> None:
    settings = container.settings
    delays = settings.webhook_retry_delays_s
    async with container.db.session() as session:
        row = await session.get(WebhookDelivery, claimed.delivery_id)
        subscription = await session.get(WebhookSubscription, claimed.subscription_id)
        if row is None or subscription is None:
            return  # deleted meanwhile
        row.status_code = result.status_code
        row.duration_ms = result.duration_ms
        row.error = result.error
        row.next_attempt_at = None
        if result.ok:
            row.status = DeliveryStatus.SUCCEEDED
            subscription.consecutive_failures = 0
            DELIVERIES.labels("delivered").inc()
            return
        row.status = DeliveryStatus.FAILED
        will_retry = claimed.attempt <= len(delays) and subscription.is_active
        DELIVERIES.labels("retrying" if will_retry else "failed").inc()
        if will_retry:
            due = utcnow() + timedelta(seconds=delays[claimed.attempt - 1])
            row.next_attempt_at = due
            retry = WebhookDelivery(
                subscription_id=row.subscription_id,
                event_id=row.event_id,
                event_type=row.event_type,
                payload=row.payload,
                attempt=row.attempt + 1,
                status=DeliveryStatus.PENDING,
                next_attempt_at=due,
            )
            session.add(retry)
            await session.flush()
            enqueue_after_commit(session, DELIVER_TASK, retry.id)
            return
        disabled = _count_failure(subscription, settings.webhook_disable_after_failures)
        reason = subscription.disabled_reason
    log.warning(
        "webhook delivery failed for good",
        subscription_id=claimed.subscription_id,
        event_id=claimed.event_id,
        attempts=claimed.attempt,
        error=result.error,
    )
    if disabled:  # told once it is committed
        _notice_disabled(claimed.subscription_id, claimed.url, reason)


def _count_failure(subscription: WebhookSubscription, limit: int) -> bool:
    """Count a delivery that failed every attempt; True if this disabled the subscription."""
    subscription.consecutive_failures = (subscription.consecutive_failures or 0) + 1
    if not subscription.is_active or subscription.consecutive_failures < limit:
        return False
    # Like account.needs_reauth: a state an admin sees (GET /webhook-subscriptions shows
    # is_active, disabled_at, disabled_reason) and clears (PATCH is_active=true).
    subscription.is_active = False
    subscription.disabled_at = utcnow()
    subscription.disabled_reason = (
        f"{subscription.consecutive_failures} consecutive deliveries failed"
    )
    return True


def _notice_disabled(subscription_id: int, url: str, reason: str | None) -> None:
    """The operator's notice: a warning in the log and a Prometheus counter to alert on.
    No outgoing event: the design's event types have none for subscriptions, and the
    subscription that failed is the one that cannot hear it."""
    SUBSCRIPTIONS_DISABLED.inc()
    log.warning(
        "webhook subscription disabled after repeated failures",
        subscription_id=subscription_id,
        url=url,
        reason=reason,
    )


async def due_deliveries(db: Database, timeout_s: float) -> list[int]:
    """Pending rows whose time has come (retries, lost kicks), and `sending` rows whose worker
    died mid-request (put back to pending)."""
    now = utcnow()
    stuck_before = now - timedelta(seconds=timeout_s) - LOST_AFTER
    async with db.session() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.SENDING,
                WebhookDelivery.next_attempt_at < stuck_before,
            )
            .values(status=DeliveryStatus.PENDING)
        )
        due = func.coalesce(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
        rows = await session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                (WebhookDelivery.next_attempt_at <= now)
                | (WebhookDelivery.next_attempt_at.is_(None) & (due < now - LOST_AFTER)),
            )
        )
        return list(rows)
