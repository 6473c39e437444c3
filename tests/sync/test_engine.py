"""The sync engine against the emulator over loopback HTTP and the real test database."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import InstagramAccount, InstagramPost, SyncStatus, SyncType
from instagram_service.sync.engine import Progress
from tests.support.emulated import Env, emulated_env


@pytest.fixture(scope="module")
def emulator_1000() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 1000, seed=7)) as handle:
        yield handle


@pytest.fixture
def small_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 60, seed=3)) as handle:
        yield handle


@pytest.fixture
async def env(
    small_emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> AsyncIterator[Env]:
    async with emulated_env(clean_db, tmp_path, emulator=small_emulator, page_size=25) as e:
        yield e


@contextmanager
def recorded_writes(db: Database) -> Iterator[list[str]]:
    """Every INSERT/UPDATE/DELETE on posts and their children while the block runs
    (the job row and the account's last-sync time are bookkeeping, expected to change)."""
    writes: list[str] = []

    def before(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and (
            "instagram_posts" in statement or "post_media" in statement
        ):
            writes.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield writes
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def test_full_sync_of_1000_then_second_changes_nothing(
    emulator_1000: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    async with emulated_env(clean_db, tmp_path, emulator=emulator_1000, page_size=100) as env:
        account = await env.connect()
        emulator_1000.state.reset_stats()
        job = await env.sync(account.id, SyncType.FULL)
        assert job.status == SyncStatus.COMPLETED, job.error_message
        assert job.posts_added == 1000
        assert job.posts_processed == 1000
        # The minimum: one profile call and one call per page of 100.
        assert job.api_calls_made == 1 + math.ceil(1000 / 100)
        assert env.calls() == 1 + math.ceil(1000 / 100)
        assert await env.post_count() == 1000

        with recorded_writes(clean_db) as writes:
            second = await env.sync(account.id, SyncType.FULL)
        assert second.status == SyncStatus.COMPLETED
        assert (second.posts_added, second.posts_updated, second.posts_deleted) == (0, 0, 0)
        assert writes == [], f"a second identical sync wrote: {writes[:3]}"

        emulator_1000.state.reset_stats()
        incremental = await env.sync(account.id, SyncType.INCREMENTAL)
        assert incremental.status == SyncStatus.COMPLETED
        assert incremental.api_calls_made == 1
        assert env.calls() == 1


async def test_carousel_children_kept_in_order_and_captions_parsed(env: Env) -> None:
    account = await env.connect()
    await env.sync(account.id)
    scenario_media = {m.id: m for m in env.emulator.state.scenario.accounts[0].media}
    async with env.db.session() as session:
        posts = (
            await session.scalars(
                select(InstagramPost).options(selectinload(InstagramPost.children))
            )
        ).all()
    carousels = [p for p in posts if p.media_type == "CAROUSEL_ALBUM"]
    assert carousels
    for post in carousels:
        expected = [c.id for c in scenario_media[post.instagram_id].children]
        assert [c.instagram_id for c in post.children] == expected
        assert [c.position for c in post.children] == list(range(len(expected)))
    hidden = [p for p in posts if scenario_media[p.instagram_id].like_count is None]
    assert hidden
    assert all(p.like_count is None for p in hidden)
    for post in posts:
        assert post.posted_at.tzinfo is not None
        for tag in post.hashtags:
            assert tag.startswith("#")
            assert tag == tag.lower()


async def test_incremental_picks_up_added_edited_and_full_sees_deleted(env: Env) -> None:
    account = await env.connect()
    await env.sync(account.id)
    state = env.emulator.state
    user_id = state.scenario.accounts[0].user_id
    media = state.scenario.accounts[0].media
    newest, victim = media[0], media[5]
    state.add_media(user_id, {"caption": "Fresh balayage #newlook", "media_type": "IMAGE"})
    state.edit_media(newest.id, caption="Edited caption #edited", like_count=4242)
    state.delete_media(victim.id)

    job = await env.sync(account.id, SyncType.INCREMENTAL)
    assert job.status == SyncStatus.COMPLETED
    assert job.posts_added == 1
    assert job.posts_updated >= 1
    async with env.db.session() as session:
        edited = await session.scalar(
            select(InstagramPost).where(InstagramPost.instagram_id == newest.id)
        )
        assert edited is not None
        assert edited.caption == "Edited caption #edited"
        assert edited.like_count == 4242
        assert edited.hashtags == ["#edited"]

    full = await env.sync(account.id, SyncType.FULL)
    assert full.posts_deleted == 1
    async with env.db.session() as session:
        gone = await session.scalar(
            select(InstagramPost).where(InstagramPost.instagram_id == victim.id)
        )
        assert gone is not None
        assert gone.deleted_at is not None
    assert await env.post_count() == 60  # 60 - 1 deleted + 1 added


async def test_failed_full_walk_deletes_nothing(env: Env) -> None:
    account = await env.connect()
    await env.sync(account.id)
    state = env.emulator.state
    state.delete_media(state.scenario.accounts[0].media[-1].id)
    state.set_faults(error_rate=1.0)  # every call fails (transient), retries run out
    job = await env.sync(account.id, SyncType.FULL)
    state.reset_faults()
    assert job.status == SyncStatus.FAILED
    assert job.error_message
    assert await env.post_count(deleted=True) == 0
    assert await env.post_count() == 60


async def test_crash_mid_sync_then_resync_has_exactly_the_emulators_posts(env: Env) -> None:
    account = await env.connect()

    def crash(progress: Progress) -> None:
        if progress.posts == 37:
            raise RuntimeError("simulated crash after 37 posts")

    job = await env.sync(account.id, SyncType.FULL, Progress(on_post=crash))
    assert job.status == SyncStatus.FAILED
    assert "simulated crash" in (job.error_message or "")
    kept = await env.post_count()
    assert kept == 25  # the first page was committed; the page in flight was rolled back

    again = await env.sync(account.id, SyncType.FULL)
    assert again.status == SyncStatus.COMPLETED
    assert again.posts_added == 60 - kept
    async with env.db.session() as session:
        ids = (await session.scalars(select(InstagramPost.instagram_id))).all()
    expected = {m.id for m in env.emulator.state.scenario.accounts[0].media}
    assert sorted(ids) == sorted(expected)


async def test_expired_token_marks_account_needs_reauth_and_keeps_posts(env: Env) -> None:
    account = await env.connect()
    await env.sync(account.id)
    env.emulator.state.revoke_token(env.token(), status="revoked")
    job = await env.sync(account.id, SyncType.FULL)
    assert job.status == SyncStatus.FAILED
    assert "reconnected" in (job.error_message or "")
    async with env.db.session() as session:
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
        assert stored.needs_reauth
        assert stored.reauth_reason
    assert await env.post_count() == 60
    assert env.token() not in (job.error_message or "")


async def test_rate_limit_records_and_schedules_follow_up(env: Env) -> None:
    account = await env.connect()
    env.emulator.state.set_faults(usage_pct=100.0)
    job = await env.sync(account.id, SyncType.FULL)
    env.emulator.state.reset_faults()
    assert job.status == SyncStatus.FAILED
    assert job.rate_limit_hit
    assert job.retry_after is not None
    assert "follow-up" in (job.error_message or "")
    from instagram_service.sync.service import active_job

    async with env.db.session() as session:
        follow_up = await active_job(session, account.id)
        assert follow_up is not None
        assert follow_up.status == SyncStatus.PENDING
        assert follow_up.scheduled_for == job.retry_after
        stored = await session.get(InstagramAccount, account.id)
        assert stored is not None
        assert stored.sync_blocked_until == job.retry_after


async def test_transient_errors_are_retried(env: Env) -> None:
    account = await env.connect()
    env.emulator.state.set_faults(fail_next=2)
    job = await env.sync(account.id, SyncType.FULL)
    env.emulator.state.reset_faults()
    assert job.status == SyncStatus.COMPLETED, job.error_message
    assert await env.post_count() == 60
