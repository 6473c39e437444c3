"""Instagram's callback: handshake, size cap, malformed bodies, duplicates, fixture payloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from instagram_service.db import Database
from instagram_service.instagram_webhooks import routes as incoming
from instagram_service.models import WebhookEventStatus
from instagram_service.settings import Settings
from tests.factories import make_account, make_post
from tests.webhooks.support import (
    CALLBACK,
    FIXTURES,
    AppEnv,
    drain,
    events,
    running_app,
    signed,
    webhook_settings,
)

PAYLOADS = sorted((FIXTURES / "restfb").glob("*.json"))


def _hub(mode: str, token: str, challenge: str = "1158201444") -> dict[str, str]:
    return {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}


async def test_handshake_echoes_the_challenge(env: AppEnv) -> None:
    response = await env.http.get(CALLBACK, params=_hub("subscribe", "test-verify-token"))
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        _hub("subscribe", "wrong-token"),
        _hub("unsubscribe", "test-verify-token"),
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-token", "no-challenge", "nothing"],
)
async def test_handshake_refused(env: AppEnv, params: dict[str, str]) -> None:
    assert (await env.http.get(CALLBACK, params=params)).status_code == 403


@pytest.fixture
async def unconfigured(settings: Settings, clean_db: Database) -> AsyncIterator[AppEnv]:
    plain = webhook_settings(settings, webhook_verify_token=None, app_secret=None)
    async with running_app(plain, clean_db) as app_env:
        yield app_env


async def test_nothing_configured(unconfigured: AppEnv) -> None:
    handshake = await unconfigured.http.get(CALLBACK, params=_hub("subscribe", ""))
    assert handshake.status_code == 403
    body = b"{}"
    response = await unconfigured.http.post(CALLBACK, content=body, headers=signed(body))
    assert response.status_code == 503
    assert "IGS_APP_SECRET" in response.json()["detail"]


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
async def test_every_fixture_payload_ends_in_a_defined_status(env: AppEnv, path: Path) -> None:
    body = path.read_bytes()
    response = await env.http.post(CALLBACK, content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"status": "received"}
    await drain()
    (event,) = await events(env.db)
    assert event.signature_ok
    assert event.raw_body == body
    # No account "0" or 17841452691600098 is connected: recorded and ignored, with a reason.
    assert event.status == WebhookEventStatus.IGNORED
    assert event.error
    assert event.processed_at is not None


async def test_fixture_payloads_with_a_known_account(env: AppEnv) -> None:
    async with env.db.session() as session:
        account = await make_account(session, instagram_user_id="17841452691600098")
        await make_account(session, instagram_user_id="0", is_active=False)
        await make_post(session, account, instagram_id="17887498072083520")
    for path in PAYLOADS:
        body = path.read_bytes()
        response = await env.http.post(CALLBACK, content=body, headers=signed(body))
        assert response.status_code == 200
    await drain()
    reasons: dict[str, str] = {}
    for event, path in zip(await events(env.db), PAYLOADS, strict=True):
        assert event.status == WebhookEventStatus.IGNORED
        assert event.error is not None
        reasons[path.stem] = event.error
    assert reasons["ig_messaging_seen"] == "field 'messaging' is not handled"
    assert reasons["ig_story_insights"] == "field 'story_insights' is not handled"
    for name in ("ig_comments_changes", "ig_live_comments", "ig_mentions"):
        assert "is inactive or needs reauth" in reasons[name]


async def test_duplicates_are_stored_and_processed_once(
    env: AppEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    kicked: list[int] = []
    real_enqueue = incoming.enqueue_after_commit

    def counting_enqueue(session: Any, task_name: str, *args: Any, **kw: Any) -> None:
        kicked.append(args[0])
        real_enqueue(session, task_name, *args, **kw)

    monkeypatch.setattr(incoming, "enqueue_after_commit", counting_enqueue)
    body = (FIXTURES / "restfb/ig_mentions.json").read_bytes()
    first = await env.http.post(CALLBACK, content=body, headers=signed(body))
    assert first.json() == {"status": "received"}
    # Meta retries the same bytes; some arrive at the same moment.
    retries = await asyncio.gather(
        *(env.http.post(CALLBACK, content=body, headers=signed(body)) for _ in range(5))
    )
    assert {r.status_code for r in retries} == {200}
    assert {r.json()["status"] for r in retries} == {"duplicate"}
    await drain()
    assert len(await events(env.db)) == 1
    assert len(kicked) == 1


async def test_concurrent_first_deliveries_store_one_event(env: AppEnv) -> None:
    body = (FIXTURES / "restfb/ig_live_comments.json").read_bytes()
    answers = await asyncio.gather(
        *(env.http.post(CALLBACK, content=body, headers=signed(body)) for _ in range(6))
    )
    assert sorted(r.json()["status"] for r in answers) == ["duplicate"] * 5 + ["received"]
    await drain()
    assert len(await events(env.db)) == 1


async def test_oversize_body_is_413_and_not_stored(settings: Settings, clean_db: Database) -> None:
    small = webhook_settings(settings, webhook_max_body_bytes=1000)
    async with running_app(small, clean_db) as app_env:
        body = json.dumps({"object": "instagram", "entry": [], "pad": "x" * 1000}).encode()
        response = await app_env.http.post(CALLBACK, content=body, headers=signed(body))
        assert response.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is capped
            for _ in range(20):
                yield b"x" * 100

        streamed = await app_env.http.post(CALLBACK, content=chunks(), headers=signed(b"x" * 2000))
        assert streamed.status_code == 413
        at_cap = json.dumps({"object": "instagram", "entry": [], "p": "x" * 940}).encode()
        assert len(at_cap) <= 1000
        ok = await app_env.http.post(CALLBACK, content=at_cap, headers=signed(at_cap))
        assert ok.status_code == 200
        await drain()
        assert len(await events(clean_db)) == 1


@pytest.mark.parametrize(
    "body", [b'{"object": "instagram", "entry": [', b"\xff\xfe{}", b"[1, 2]", b""], ids=str
)
async def test_malformed_json_is_400_and_stored_failed(env: AppEnv, body: bytes) -> None:
    response = await env.http.post(CALLBACK, content=body, headers=signed(body))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("malformed")
    again = await env.http.post(CALLBACK, content=body, headers=signed(body))
    assert again.status_code == 400
    await drain()
    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.FAILED
    assert event.error is not None
    assert event.error.startswith("malformed")
    assert event.raw_body == body


async def test_flat_entry_shape_and_unknown_fields(env: AppEnv) -> None:
    async with env.db.session() as session:
        await make_account(session, instagram_user_id="17841400000000777")
    payload = {
        "object": "instagram",
        "entry": [
            {"id": "17841400000000777", "time": 1, "field": "story_insights", "value": {}},
            {"id": "17841400000000777", "time": 1, "changes": [{"field": "media", "value": {}}]},
            {"id": "17841400000000777", "time": 1},
            "not an entry",
        ],
    }
    body = json.dumps(payload).encode()
    assert (await env.http.post(CALLBACK, content=body, headers=signed(body))).status_code == 200
    await drain()
    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.IGNORED
    assert event.error is not None
    assert "'story_insights' is not handled" in event.error
    assert "without a known verb" in event.error
