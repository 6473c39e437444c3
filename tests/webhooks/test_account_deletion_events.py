"""Deleting an account takes its posts out of the gallery: the CMS hears post.removed for
each one it showed, and one gallery.changed, once the deletion is committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instagram_service.db import utcnow
from instagram_service.models import MediaStatus
from tests.support.factories import make_account, make_post
from tests.support.webhooks import AppEnv, Receiver, deliveries, drain, running_receiver

EVENTS = ["post.removed", "gallery.changed"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver()) as r:
        yield r


async def test_deleting_an_account_removes_its_public_posts(
    env: AppEnv, receiver: Receiver
) -> None:
    created = await env.http.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "events": EVENTS},
        headers=env.admin,
    )
    receiver.secret = created.json()["secret"]
    ready = MediaStatus.READY
    async with env.db.session() as session:
        account = await make_account(session)
        other = await make_account(session)
        shown = [await make_post(session, account, media_status=ready) for _ in range(2)]
        await make_post(session, account, media_status=ready, is_approved=False)  # rejected
        await make_post(session, account, media_status=MediaStatus.PENDING)  # no image yet
        await make_post(session, account, media_status=ready, deleted_at=utcnow())
        await make_post(session, other, media_status=ready)  # another account's: stays

    response = await env.http.delete(f"/api/v1/accounts/{account.id}", headers=env.admin)
    assert response.status_code == 204
    await drain()

    assert all(hit.verified for hit in receiver.received)
    removed = [h.json["data"] for h in receiver.received if h.json["type"] == "post.removed"]
    assert sorted(removed, key=lambda d: d["id"]) == [
        {"id": p.id, "instagram_id": p.instagram_id, "permalink": p.permalink} for p in shown
    ]
    changed = [h.json["data"] for h in receiver.received if h.json["type"] == "gallery.changed"]
    assert changed == [{"reason": f"account @{account.username} deleted"}]
    assert {row.status for row in await deliveries(env.db)} == {"succeeded"}


async def test_deleting_an_account_with_nothing_public_says_nothing(
    env: AppEnv, receiver: Receiver
) -> None:
    await env.http.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "events": EVENTS},
        headers=env.admin,
    )
    async with env.db.session() as session:
        account = await make_account(session)
        await make_post(session, account, is_approved=False, media_status=MediaStatus.READY)
    response = await env.http.delete(f"/api/v1/accounts/{account.id}", headers=env.admin)
    assert response.status_code == 204
    await drain()
    assert receiver.received == []
    assert await deliveries(env.db) == []
