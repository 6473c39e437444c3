"""Emission of outgoing events: the rest of the service calls these with its own session.

Each call records one pending delivery per active subscription that wants the event type,
in the caller's transaction, and queues the deliveries once that transaction commits: a
rollback sends nothing, and a lost queue message is found again by the sweep task.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import after_commit, utcnow
from instagram_service.models import (
    EVENT_TYPES,
    InstagramAccount,
    InstagramPost,
    WebhookDelivery,
    WebhookSubscription,
)
from instagram_service.posts.schemas import is_public, public_post_dict

PostChange = Literal["published", "updated", "removed"]


class DeliveryStatus:
    PENDING = "pending"
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the subscription was disabled or deleted before sending


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


async def emit_event(session: AsyncSession, event_type: str, data: dict[str, Any]) -> list[int]:
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
    after_commit(session, lambda: kick(ids))
    return ids


async def kick(ids: list[int]) -> None:
    from instagram_service.webhooks.tasks import kick_deliveries  # the task imports this module

    await kick_deliveries(ids)


def _base_url() -> str:
    from instagram_service.runtime import get_runtime

    try:
        return get_runtime().settings.public_base_url
    except RuntimeError:
        return ""


async def emit_post_change(
    session: AsyncSession, kind: PostChange, post: InstagramPost, *, base_url: str | None = None
) -> list[int]:
    """`post.published|updated` carry the public shape, and are sent only for a post the
    gallery shows (`is_public`); `post.removed` carries `{id, instagram_id, permalink}`."""
    if post.id is None:
        await session.flush()
    if kind == "removed":
        data: dict[str, Any] = {
            "id": post.id,
            "instagram_id": post.instagram_id,
            "permalink": post.permalink,
        }
        return await emit_event(session, "post.removed", data)
    if not is_public(post):
        return []
    if "children" in inspect(post).unloaded:
        await session.refresh(post, attribute_names=["children"])
    base = _base_url() if base_url is None else base_url
    return await emit_event(session, f"post.{kind}", public_post_dict(post, base))


def transition(was_public: bool, now_public: bool, changed: bool) -> PostChange | None:
    """What a change means to the CMS, given whether the gallery showed the post before
    and shows it now."""
    if now_public and not was_public:
        return "published"
    if now_public and changed:
        return "updated"
    if was_public and not now_public:
        return "removed"
    return None


async def emit_post_transition(
    session: AsyncSession, post: InstagramPost, *, was_public: bool, changed: bool
) -> list[int]:
    """Emit what a change of `post` means to the CMS, given whether the gallery showed it
    before: published, updated, removed (each with gallery.changed), or nothing."""
    kind = transition(was_public, is_public(post), changed)
    if kind is None:
        return []
    ids = await emit_post_change(session, kind, post)
    return ids + await emit_gallery_changed(session, f"post {post.id} {kind}")


async def emit_gallery_changed(session: AsyncSession, reason: str) -> list[int]:
    return await emit_event(session, "gallery.changed", {"reason": reason})


async def emit_account_needs_reauth(
    session: AsyncSession, account: InstagramAccount, reason: str
) -> list[int]:
    data = {"account_id": account.id, "username": account.username, "reason": reason}
    return await emit_event(session, "account.needs_reauth", data)
