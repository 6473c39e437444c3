"""The recorded Instagram webhook payloads (restfb samples, entry id "0"), delivered signed as
recorded to the real app for an ACTIVE connected account whose Instagram user id is "0".

A comment or mention on a media we have refreshes that media from the API; one on a media we
do not have (or with no media id at all) queues an incremental sync. The account, its media
and its tokens live in the emulator, reached over loopback HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.emulator import (
    EmulatorHandle,
    Scenario,
    ScenarioAccount,
    ScenarioMedia,
    ScenarioToken,
    running_emulator,
)
from instagram_service.models import (
    InstagramAccount,
    InstagramPost,
    SyncJob,
    SyncStatus,
    WebhookEventStatus,
)
from tests.support.emulated import emulated_settings
from tests.support.webhooks import (
    CALLBACK,
    FIXTURES,
    AppEnv,
    drain,
    events,
    running_app,
    signed,
    webhook_settings,
)

ENTRY_ID = "0"  # the entry id of every restfb sample
TOKEN = "IGAAfixtureAccountZeroLongLived0001"
COMMENTED = "76543987"  # ig_comments_changes.json: value.media.id
MENTIONED = "17887498072083520"  # ig_mentions.json: value.media_id
OTHER = "17900000000000031"
BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _media(media_id: str, hours: int, **extra: object) -> ScenarioMedia:
    return ScenarioMedia.model_validate(
        {
            "id": media_id,
            "timestamp": BASE_TIME - timedelta(hours=hours),
            "shortcode": f"S{media_id[-6:]}",
            "caption": f"post {media_id} #salon",
            "like_count": 10,
            "comments_count": 1,
            **extra,
        }
    )


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    account = ScenarioAccount(
        user_id=ENTRY_ID,
        id="26000000000000000",
        username="fixture.zero",
        name="Account Zero",
        followers_count=321,
        tokens=[ScenarioToken(token=TOKEN, age_s=3600)],
        media=[_media(OTHER, 1), _media(COMMENTED, 2), _media(MENTIONED, 3)],
    )
    with running_emulator(Scenario(accounts=[account])) as handle:
        yield handle


@pytest.fixture
async def env(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> AsyncIterator[AppEnv]:
    settings = webhook_settings(emulated_settings(emulator, clean_db, tmp_path))
    async with running_app(settings, clean_db) as app_env:
        yield app_env


def secret(emulator: EmulatorHandle) -> str:
    return emulator.state.scenario.app_secret


async def connect(env: AppEnv, *, sync: bool) -> int:
    added = await env.http.post("/api/v1/accounts", json={"access_token": TOKEN}, headers=env.admin)
    assert added.status_code == 201, added.text
    account_id: int = added.json()["id"]
    assert added.json()["instagram_user_id"] == ENTRY_ID
    if sync:
        started = await env.http.post(
            "/api/v1/sync/trigger", json={"account": "fixture.zero", "type": "FULL"},
            headers=env.admin,
        )  # fmt: skip
        assert started.status_code == 202
        await drain()
    return account_id


async def deliver(env: AppEnv, emulator: EmulatorHandle, name: str) -> None:
    body = (FIXTURES / "restfb" / name).read_bytes()  # the recorded bytes, unchanged
    response = await env.http.post(CALLBACK, content=body, headers=signed(body, secret(emulator)))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "received"}
    await drain()


async def posts(db: Database) -> dict[str, InstagramPost]:
    async with db.session() as session:
        rows = await session.scalars(select(InstagramPost))
        return {p.instagram_id: p for p in rows}


async def jobs(db: Database) -> list[SyncJob]:
    async with db.session() as session:
        return list(await session.scalars(select(SyncJob).order_by(SyncJob.id)))


async def test_comment_on_a_known_media_refreshes_it(env: AppEnv, emulator: EmulatorHandle) -> None:
    await connect(env, sync=True)
    before = await posts(env.db)
    assert before[COMMENTED].comments_count == 1
    # The comment made the counts move on Instagram.
    emulator.state.edit_media(COMMENTED, comments_count=2, like_count=14)
    emulator.state.reset_stats()

    await deliver(env, emulator, "ig_comments_changes.json")

    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    assert event.error is None
    after = await posts(env.db)
    assert (after[COMMENTED].comments_count, after[COMMENTED].like_count) == (2, 14)
    assert after[OTHER].updated_at == before[OTHER].updated_at  # only that media
    # One lookup of that media (GET /{id}); no listing, no sync.
    assert emulator.state.stats()["calls_by_path"] == {"{id}": 1}
    assert len(await jobs(env.db)) == 1  # the initial FULL sync only


async def test_mention_on_a_known_media_refreshes_it(env: AppEnv, emulator: EmulatorHandle) -> None:
    await connect(env, sync=True)
    emulator.state.edit_media(MENTIONED, caption="now mentioning @fixture.zero #salon")
    await deliver(env, emulator, "ig_mentions.json")
    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    assert (await posts(env.db))[MENTIONED].caption == "now mentioning @fixture.zero #salon"
    assert len(await jobs(env.db)) == 1


async def test_refresh_of_a_media_gone_from_instagram_soft_deletes_it(
    env: AppEnv, emulator: EmulatorHandle
) -> None:
    await connect(env, sync=True)
    emulator.state.delete_media(COMMENTED)
    await deliver(env, emulator, "ig_comments_changes.json")
    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    current = await posts(env.db)
    assert current[COMMENTED].deleted_at is not None
    assert current[OTHER].deleted_at is None


@pytest.mark.parametrize(
    "name",
    [
        "ig_comments_changes.json",  # a media we have not synced yet
        "ig_comments_changes_minimal_2018.json",  # no media id at all
        "ig_live_comments.json",  # no media id at all
        "ig_mentions.json",  # a media we have not synced yet
    ],
)
async def test_event_without_a_known_media_queues_an_incremental_sync(
    env: AppEnv, emulator: EmulatorHandle, name: str
) -> None:
    account_id = await connect(env, sync=False)
    assert await posts(env.db) == {}
    await deliver(env, emulator, name)

    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    assert event.error is None
    (job,) = await jobs(env.db)
    assert (job.account_id, job.trigger) == (account_id, "webhook")
    assert (job.sync_type, job.walk) == ("INCREMENTAL", "INCREMENTAL")
    assert job.status == SyncStatus.COMPLETED, job.error_message
    # The sync that the event queued brought the account's media in.
    assert set(await posts(env.db)) == {OTHER, COMMENTED, MENTIONED}
    assert job.posts_added == 3


async def test_events_while_a_sync_is_active_reuse_it(
    env: AppEnv, emulator: EmulatorHandle
) -> None:
    await connect(env, sync=False)
    emulator.state.set_faults(latency_s=0.3)  # the first queued sync is still running
    for name in ("ig_live_comments.json", "ig_comments_changes_minimal_2018.json"):
        body = (FIXTURES / "restfb" / name).read_bytes()
        response = await env.http.post(
            CALLBACK, content=body, headers=signed(body, secret(emulator))
        )
        assert response.status_code == 200
    await drain()
    emulator.state.reset_faults()
    assert [e.status for e in await events(env.db)] == [WebhookEventStatus.PROCESSED] * 2
    (job,) = await jobs(env.db)  # one sync for both events
    assert job.status == SyncStatus.COMPLETED


async def test_fields_we_do_not_handle_stay_ignored_for_an_active_account(
    env: AppEnv, emulator: EmulatorHandle
) -> None:
    await connect(env, sync=False)
    for name in ("ig_story_insights.json", "ig_messaging_seen.json"):
        await deliver(env, emulator, name)
    reasons = [(e.status, e.error) for e in await events(env.db)]
    assert reasons == [
        (WebhookEventStatus.IGNORED, "field 'story_insights' is not handled"),
        (WebhookEventStatus.IGNORED, "field 'messaging' is not handled"),
    ]
    assert await jobs(env.db) == []


async def test_deactivated_account_is_left_alone(env: AppEnv, emulator: EmulatorHandle) -> None:
    account_id = await connect(env, sync=False)
    async with env.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        account.is_active = False
    await deliver(env, emulator, "ig_live_comments.json")
    (event,) = await events(env.db)
    assert event.status == WebhookEventStatus.IGNORED
    assert event.error == "account @fixture.zero is inactive or needs reauth"
    assert await jobs(env.db) == []
