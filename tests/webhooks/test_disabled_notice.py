"""A subscription disabled after repeated failures is a notice an operator sees: its reason
in the admin API, one warning in the log, and a Prometheus counter to alert on."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from instagram_service.events.outbox import record_gallery_changed
from tests.webhooks.support import (
    AppEnv,
    Receiver,
    drain,
    running_receiver,
)

BASE = "/api/v1/webhook-subscriptions"
METRIC = "igs_webhook_subscriptions_disabled_total"
NOTICE = "webhook subscription disabled after repeated failures"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver(default=503)) as r:
        yield r


async def disabled_count(env: AppEnv) -> float:
    text = (await env.http.get("/metrics", headers=env.admin)).text
    found = re.search(rf"^{METRIC} (\S+)$", text, re.MULTILINE)
    assert found, f"{METRIC} is not exported"
    return float(found.group(1))


async def test_disabling_is_reported_once(
    fragile: AppEnv, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    body = {"url": receiver.url, "events": ["gallery.changed"], "description": "CMS"}
    created = await fragile.http.post(BASE, json=body, headers=fragile.admin)
    receiver.secret = created.json()["secret"]
    sub_id = created.json()["id"]
    before = await disabled_count(fragile)

    for n in range(3):  # the third finds the subscription disabled: no second notice
        async with fragile.db.session() as session:
            await record_gallery_changed(session, f"failing {n}")
        await drain()

    assert await disabled_count(fragile) == before + 1
    notices = [r for r in caplog.records if NOTICE in r.getMessage()]
    assert len(notices) == 1
    assert notices[0].levelno == logging.WARNING
    assert f"subscription_id={sub_id}" in notices[0].getMessage()
    assert "2 consecutive deliveries failed" in notices[0].getMessage()

    listed = await fragile.http.get(BASE, headers=fragile.admin)
    (shown,) = listed.json()["items"]
    assert shown["is_active"] is False
    assert shown["disabled_reason"] == "2 consecutive deliveries failed"
    assert shown["disabled_at"] is not None
