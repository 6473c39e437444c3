"""A sync tells subscribed CMSs what became public, changed or left the gallery."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import SyncType, WebhookDelivery, WebhookSubscription
from instagram_service.worker.broker import broker, import_task_modules
from tests.emulated import Env, emulated_runtime


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 6, seed=9)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    import_task_modules()
    await broker.startup()
    async with emulated_runtime(
        emulator, clean_db, tmp_path, media=True, image_workers=1,
        webhook_allow_private_targets=True, webhook_retry_inline_max_s=0,
    ) as e:  # fmt: skip
        async with e.db.session() as session:
            session.add(
                WebhookSubscription(
                    url="http://127.0.0.1:9/hook",  # nothing listens: deliveries just fail
                    secret_encrypted=e.container.cipher.encrypt("whsec_dGVzdHRlc3R0ZXN0dGVzdA=="),
                    events=["post.published", "post.updated", "post.removed", "gallery.changed"],
                )
            )
        yield e
        await broker.wait_all()


async def _events(env: Env) -> Counter[str]:
    async with env.db.session() as session:
        rows = await session.scalars(select(WebhookDelivery).where(WebhookDelivery.attempt == 1))
        return Counter(row.event_type for row in rows)


async def test_sync_emits_published_then_removed_and_one_gallery_change(env: Env) -> None:
    account = await env.connect()
    await env.sync(account.id)
    events = await _events(env)
    public = await env.post_count()  # every synced post has an image in this scenario
    assert events["post.published"] == public
    assert events["gallery.changed"] == 1

    again = await env.sync(account.id)  # nothing changed: nothing to tell
    assert again.posts_updated == 0
    assert await _events(env) == events

    state = env.emulator.state
    victim = state.scenario.accounts[0].media[0]
    state.delete_media(victim.id)
    await env.sync(account.id, SyncType.FULL)
    after = await _events(env)
    assert after["post.removed"] == 1
    assert after["gallery.changed"] == 2
