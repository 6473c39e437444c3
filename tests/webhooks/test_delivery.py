"""Outgoing events: emission after commit, Standard Webhooks signatures verified by a receiver
on a loopback port, retries, disabling, the sweep, and the delivery-time target check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from instagram_service.db import Database, utcnow
from instagram_service.events.outbox import record_event, record_gallery_changed
from instagram_service.models import (
    DeliveryStatus,
    MediaStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from instagram_service.posts.changes import record_post_change
from instagram_service.posts.schemas import public_post_dict
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings
from instagram_service.webhooks.tasks import sweep
from tests.factories import make_account, make_post
from tests.webhooks.support import (
    CALLBACK,
    AppEnv,
    Receiver,
    deliveries,
    drain,
    running_app,
    running_receiver,
    signed,
    webhook_settings,
)

BASE = "/api/v1/webhook-subscriptions"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver()) as r:
        yield r


async def subscribe(env: AppEnv, receiver: Receiver, events: list[str] | None = None) -> int:
    body = {"url": receiver.url, "events": events or ["gallery.changed", "post.removed"]}
    if receiver.secret:  # one receiver, one secret, whatever the number of subscriptions
        body["secret"] = receiver.secret
    response = await env.http.post(BASE, json=body, headers=env.admin)
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return int(response.json()["id"])


async def test_event_is_delivered_signed(env: AppEnv, receiver: Receiver) -> None:
    sub_id = await subscribe(env, receiver)
    async with env.db.session() as session:
        ids = await record_gallery_changed(session, "manual test")
        assert len(ids) == 1
        assert receiver.received == []  # nothing leaves before the commit
    await drain()
    (hit,) = receiver.received
    assert hit.verified
    body = hit.json
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["type"] == "gallery.changed"
    assert body["data"] == {"reason": "manual test"}
    assert body["id"].startswith("evt_")
    assert hit.headers["webhook-id"] == body["id"]
    assert hit.headers["webhook-signature"].startswith("v1,")
    (row,) = await deliveries(env.db)
    assert (row.status, row.status_code, row.attempt) == (DeliveryStatus.SUCCEEDED, 200, 1)
    assert row.duration_ms is not None
    listed = await env.http.get(f"{BASE}/{sub_id}/deliveries", headers=env.admin)
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["status"] == "succeeded"


async def test_only_subscribed_active_endpoints_get_it(env: AppEnv, receiver: Receiver) -> None:
    await subscribe(env, receiver, ["post.removed"])
    other = await subscribe(env, receiver, ["gallery.changed"])
    off = await subscribe(env, receiver, ["gallery.changed"])
    await env.http.patch(f"{BASE}/{off}", json={"is_active": False}, headers=env.admin)
    async with env.db.session() as session:
        ids = await record_event(session, "gallery.changed", {"reason": "x"})
    await drain()
    rows = await deliveries(env.db)
    assert [r.id for r in rows] == ids
    assert [r.subscription_id for r in rows] == [other]
    with pytest.raises(ValueError, match="unknown event type"):
        async with env.db.session() as session:
            await record_event(session, "post.liked", {})


async def test_rollback_sends_nothing(env: AppEnv, receiver: Receiver) -> None:
    await subscribe(env, receiver)

    async def failing_unit_of_work() -> None:
        async with env.db.session() as session:
            await record_gallery_changed(session, "rolled back")
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError):
        await failing_unit_of_work()
    await drain()
    assert receiver.received == []
    assert await deliveries(env.db) == []


async def test_failure_then_success_is_retried_and_recorded(
    env: AppEnv, receiver: Receiver
) -> None:
    await subscribe(env, receiver)
    receiver.statuses = [500]
    async with env.db.session() as session:
        await record_gallery_changed(session, "retry me")
    await drain()
    first, second = await deliveries(env.db)
    assert (first.attempt, first.status, first.status_code) == (1, DeliveryStatus.FAILED, 500)
    assert first.error == "HTTP 500"
    assert first.next_attempt_at is not None
    assert (second.attempt, second.status, second.status_code) == (2, "succeeded", 200)
    assert second.event_id == first.event_id
    assert [h.answered for h in receiver.received] == [500, 200]
    assert all(h.verified for h in receiver.received)
    ids = {h.headers["webhook-id"] for h in receiver.received}
    assert ids == {first.event_id}  # the same id on every attempt: receivers de-duplicate


async def test_repeated_failure_disables_the_subscription(
    fragile: AppEnv, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    sub_id = await subscribe(fragile, receiver)
    receiver.default = 503
    for n in range(2):
        async with fragile.db.session() as session:
            await record_gallery_changed(session, f"failing {n}")
        await drain()
    rows = await deliveries(fragile.db)
    assert [(r.attempt, r.status) for r in rows] == [(1, "failed"), (2, "failed")] * 2
    async with fragile.db.session() as session:
        sub = await session.get(WebhookSubscription, sub_id)
    assert sub is not None
    assert sub.is_active is False
    assert sub.disabled_at is not None
    assert sub.disabled_reason == "2 consecutive deliveries failed"
    async with fragile.db.session() as session:
        assert await record_gallery_changed(session, "nobody listens") == []
    assert len(receiver.received) == 4
    # Re-enabled by an admin: counters reset, deliveries flow again.
    receiver.default = 200
    patched = await fragile.http.patch(
        f"{BASE}/{sub_id}", json={"is_active": True}, headers=fragile.admin
    )
    assert patched.json()["consecutive_failures"] == 0
    assert patched.json()["disabled_reason"] is None
    async with fragile.db.session() as session:
        await record_gallery_changed(session, "back")
    await drain()
    assert receiver.received[-1].answered == 200


async def test_success_resets_the_failure_count(fragile: AppEnv, receiver: Receiver) -> None:
    sub_id = await subscribe(fragile, receiver)
    receiver.statuses = [500, 500, 200, 500, 500]
    for n in range(3):
        async with fragile.db.session() as session:
            await record_gallery_changed(session, f"n{n}")
        await drain()
    async with fragile.db.session() as session:
        sub = await session.get(WebhookSubscription, sub_id)
    assert sub is not None
    assert (sub.is_active, sub.consecutive_failures) == (True, 1)


async def test_late_retries_are_left_to_the_sweep(
    settings: Settings, clean_db: Database, receiver: Receiver
) -> None:
    slow = webhook_settings(settings, webhook_retry_delays_s=[3600.0])
    async with running_app(slow, clean_db) as env:
        await subscribe(env, receiver)
        receiver.statuses = [500]
        async with env.db.session() as session:
            await record_gallery_changed(session, "later")
        await drain()  # returns at once: nobody sleeps for an hour
        first, retry = await deliveries(env.db)
        assert retry.status == DeliveryStatus.PENDING
        assert retry.next_attempt_at is not None
        assert retry.next_attempt_at > utcnow() + timedelta(minutes=59)
        await sweep(env.app.state.container)
        await drain()
        assert (await deliveries(env.db))[1].status == DeliveryStatus.PENDING
        async with env.db.session() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == retry.id)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        await sweep(env.app.state.container)
        await drain()
        assert (await deliveries(env.db))[1].status == DeliveryStatus.SUCCEEDED
        assert [h.answered for h in receiver.received] == [500, 200]


async def test_sweep_recovers_lost_kicks_and_dead_workers(env: AppEnv, receiver: Receiver) -> None:
    sub_id = await subscribe(env, receiver)
    old = utcnow() - timedelta(minutes=30)
    async with env.db.session() as session:
        for status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            session.add(
                WebhookDelivery(
                    subscription_id=sub_id,
                    event_id=f"evt_{status}",
                    event_type="gallery.changed",
                    payload=json.dumps({"id": f"evt_{status}", "type": "gallery.changed"}),
                    status=status,
                    created_at=old,
                    next_attempt_at=old if status == DeliveryStatus.SENDING else None,
                )
            )
    await sweep(env.app.state.container)
    await drain()
    rows = await deliveries(env.db)
    assert [r.status for r in rows] == [DeliveryStatus.SUCCEEDED] * 2
    assert sorted(h.headers["webhook-id"] for h in receiver.received) == [
        "evt_pending",
        "evt_sending",
    ]


async def test_private_target_refused_at_delivery_time(
    settings: Settings, clean_db: Database, receiver: Receiver
) -> None:
    strict = webhook_settings(
        settings, webhook_allow_private_targets=False, webhook_retry_delays_s=[]
    )
    async with running_app(strict, clean_db) as env:
        async with env.db.session() as session:
            # Saved when it resolved to a public address; now it is loopback.
            sub = WebhookSubscription(
                url=receiver.url,
                events=["gallery.changed"],
                secret_encrypted=TokenCipher.from_settings(strict).encrypt("whsec_" + "A" * 32),
                is_active=True,
                consecutive_failures=0,
            )
            session.add(sub)
        async with env.db.session() as session:
            await record_gallery_changed(session, "should not leave")
        await drain()
        (row,) = await deliveries(env.db)
        assert row.status == DeliveryStatus.FAILED
        assert row.status_code is None
        assert row.error is not None
        assert row.error.startswith("refused:")
        assert receiver.received == []


async def test_post_change_payloads(env: AppEnv, receiver: Receiver) -> None:
    await subscribe(env, receiver, ["post.published", "post.updated", "post.removed"])
    async with env.db.session() as session:
        account = await make_account(session)
        public = await make_post(session, account, media_status=MediaStatus.READY, is_approved=True)
        hidden = await make_post(session, account, is_approved=False)
        assert await record_post_change(session, "published", hidden, base_url="") == []
        assert len(await record_post_change(session, "published", public, base_url="")) == 1
        await record_post_change(session, "removed", public, base_url="")
        expected = public_post_dict(public)
    await drain()
    published, removed = sorted((h.json for h in receiver.received), key=lambda b: b["type"])
    assert published["type"] == "post.published"
    assert published["data"] == expected
    assert removed["data"] == {
        "id": public.id,
        "instagram_id": public.instagram_id,
        "permalink": public.permalink,
    }


async def test_incoming_delete_emits_post_removed(env: AppEnv, receiver: Receiver) -> None:
    await subscribe(env, receiver, ["post.removed", "gallery.changed"])
    async with env.db.session() as session:
        account = await make_account(session, instagram_user_id="17841400000000999")
        post = await make_post(session, account, media_status=MediaStatus.READY)
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000999",
                "time": 1,
                "changes": [
                    {"field": "media", "value": {"media_id": post.instagram_id, "verb": "delete"}}
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    assert (await env.http.post(CALLBACK, content=body, headers=signed(body))).status_code == 200
    await drain()
    types = sorted(h.json["type"] for h in receiver.received)
    assert types == ["gallery.changed", "post.removed"]
    assert all(h.verified for h in receiver.received)
