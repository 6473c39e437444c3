"""Admin decisions survive real full re-syncs against the emulator, until a reset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import ContentFilter, InstagramPost, SyncStatus, SyncType
from instagram_service.moderation import service
from instagram_service.moderation.schemas import PostPatch
from tests.emulated import Env, emulated_runtime
from tests.moderation.support import filter_fields


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 8, seed=31)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with emulated_runtime(emulator, clean_db, tmp_path) as e:
        yield e


async def _post(env: Env, instagram_id: str) -> InstagramPost:
    async with env.db.session() as session:
        post = await session.scalar(
            select(InstagramPost).where(InstagramPost.instagram_id == instagram_id)
        )
        assert post is not None
        return post


async def test_admin_decisions_survive_full_resyncs_until_reset(env: Env) -> None:
    async with env.db.session() as session:
        rule = filter_fields(name="Shop", keywords=["shop"], category="product")
        rule |= {"auto_approve": True, "auto_feature": True, "auto_categorize": True}
        session.add(ContentFilter(**rule))
    account = await env.connect()
    assert (await env.sync(account.id)).status == SyncStatus.COMPLETED
    media = env.emulator.state.scenario.accounts[0].media[0]
    post = await _post(env, media.id)

    async with env.db.session() as session:
        await service.update_post(
            session,
            post.id,
            PostPatch(
                is_approved=False, is_featured=False, gallery_category="portfolio", display_order=7
            ),
        )
    # Instagram's caption now matches the rule that approves, features and categorises.
    env.emulator.state.edit_media(media.id, caption="New in the shop today")
    for _ in range(2):
        job = await env.sync(account.id, SyncType.FULL)
        assert job.status == SyncStatus.COMPLETED
        kept = await _post(env, media.id)
        assert kept.caption == "New in the shop today"  # the sync did update the post
        assert (kept.is_approved, kept.is_featured, kept.gallery_category) == (
            False,
            False,
            "portfolio",
        )
        assert kept.display_order == 7
        assert set(kept.manual_fields) >= {"is_approved", "is_featured", "gallery_category"}

    async with env.db.session() as session:
        await service.reset_moderation(session, env.container.settings, post.id)
    reset = await _post(env, media.id)
    assert (reset.is_approved, reset.is_featured, reset.gallery_category) == (
        True,
        True,
        "product",
    )
    assert reset.manual_fields == []
    assert reset.display_order == 0
