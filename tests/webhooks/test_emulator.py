"""End to end over loopback HTTP: the emulator sends signed events to the served app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from instagram_service.accounts.service import connect_account
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import (
    InstagramAccount,
    InstagramPost,
    SyncJob,
    SyncType,
    WebhookEventStatus,
)
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.sync.service import trigger_sync
from tests.emulated import emulated_settings
from tests.webhooks.support import CALLBACK, AppEnv, drain, events, running_app, serve


@dataclass
class Live:
    app: AppEnv
    emulator: EmulatorHandle
    callback: str
    account_id: int
    user_id: str

    async def control(self, method: str, path: str, **body: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.emulator.base_url, timeout=30) as client:
            return await client.request(method, f"/_emulator{path}", json=body or None)

    async def comment(self, media_id: str) -> None:
        response = await self.control(
            "POST", "/webhook", user_id=self.user_id, media_id=media_id, callback_url=self.callback
        )
        assert response.json()["status_code"] == 200, response.text

    async def post(self, instagram_id: str) -> InstagramPost | None:
        async with self.app.db.session() as session:
            query = select(InstagramPost).where(InstagramPost.instagram_id == instagram_id)
            return await session.scalar(query)


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 6, seed=21)) as handle:
        yield handle


@pytest.fixture
async def live(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Live]:
    settings = emulated_settings(emulator, clean_db, tmp_path, embedded_scheduler=False)
    async with running_app(settings, clean_db) as app_env, serve(app_env.app) as base:
        callback = base + CALLBACK
        emulator.state.scenario.webhook_url = callback  # its media changes notify us
        container = app_env.app.state.container
        token = emulator.state.scenario.accounts[0].tokens[0].token
        async with clean_db.session() as session:
            account, _ = await connect_account(session, container.client, container.cipher, token)
            job, _ = await trigger_sync(session, account, SyncType.FULL)
        await run_sync_job(SyncContext.of(container), job.id)
        yield Live(app_env, emulator, callback, account.id, account.instagram_user_id)
        emulator.state.scenario.webhook_url = None


def _feed_media_id(live: Live, index: int = 0) -> str:
    media = [
        m for m in live.emulator.state.scenario.accounts[0].media if m.media_product_type == "FEED"
    ]
    return media[index].id


async def test_comment_event_refreshes_counts(live: Live) -> None:
    media_id = _feed_media_id(live)
    before = await live.post(media_id)
    assert before is not None
    live.emulator.state.edit_media(media_id, like_count=4321, comments_count=77)
    await live.comment(media_id)
    await drain()
    after = await live.post(media_id)
    assert after is not None
    assert (after.like_count, after.comments_count) == (4321, 77)
    (event,) = await events(live.app.db)
    assert event.status == WebhookEventStatus.PROCESSED


async def test_emulator_media_verbs_update_delete_create(live: Live) -> None:
    edited, deleted = _feed_media_id(live, 1), _feed_media_id(live, 2)
    response = await live.control("PATCH", f"/media/{edited}", caption="New caption #fresh")
    assert response.status_code == 200
    assert (await live.control("DELETE", f"/media/{deleted}")).status_code == 204
    created = await live.control(
        "POST", "/media", user_id=live.user_id, caption="Just posted #new", like_count=3
    )
    assert created.status_code == 201
    await drain()
    post = await live.post(edited)
    assert post is not None
    assert post.caption == "New caption #fresh"
    assert post.hashtags == ["#fresh"]
    gone = await live.post(deleted)
    assert gone is not None
    assert gone.deleted_at is not None
    new = await live.post(created.json()["id"])
    assert new is not None
    assert new.caption == "Just posted #new"
    assert new.account_id == live.account_id
    statuses = [e.status for e in await events(live.app.db)]
    assert statuses == [WebhookEventStatus.PROCESSED] * 3
    sent = live.emulator.state.webhooks_sent
    assert [s["status"] for s in sent] == [200, 200, 200]


async def test_comment_on_unknown_media_starts_an_incremental_sync(live: Live) -> None:
    media = live.emulator.state.add_media(live.user_id, {"caption": "Posted while we slept"})
    assert await live.post(media.id) is None
    await live.comment(media.id)
    await drain()
    async with live.app.db.session() as session:
        job = await session.scalar(select(SyncJob).where(SyncJob.trigger == "webhook"))
    assert job is not None
    assert job.sync_type == SyncType.INCREMENTAL
    assert job.status == "COMPLETED"
    assert await live.post(media.id) is not None


async def test_revoked_token_marks_the_account(live: Live) -> None:
    token = live.emulator.state.scenario.accounts[0].tokens[0].token
    live.emulator.state.revoke_token(token)
    await live.comment(_feed_media_id(live))
    await drain()
    (event,) = await events(live.app.db)
    assert event.status == WebhookEventStatus.FAILED
    assert event.error is not None
    assert "token invalid" in event.error
    async with live.app.db.session() as session:
        account = await session.get(InstagramAccount, live.account_id)
    assert account is not None
    assert account.needs_reauth
