"""The sync routes over the real app (lifespan, in-process broker) and a real SQLite file,
with every Instagram call going over loopback HTTP to the emulator.

This module keeps its own database file: the package's shared `data` must not be truncated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from instagram_service.apikeys.service import create_key
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import InstagramAccount
from instagram_service.sync.schemas import SyncJobOut
from tests.conftest import truncate_all
from tests.emulated import emulated_settings
from tests.webhooks.support import AppEnv, drain, running_app

TRIGGER = "/api/v1/sync/trigger"
JOBS = "/api/v1/sync/jobs"
STATUS = "/api/v1/sync/status"
POSTS = 6
JOB_FIELDS = set(SyncJobOut.model_fields)


@pytest.fixture
def sync_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(2, POSTS, seed=57)) as handle:
        yield handle


@pytest.fixture
async def env(
    sync_emulator: EmulatorHandle, own_db: Database, tmp_path: Path
) -> AsyncIterator[AppEnv]:
    await truncate_all(own_db)
    settings = emulated_settings(sync_emulator, own_db, tmp_path, embedded_scheduler=False)
    async with running_app(settings, own_db) as app_env:
        yield app_env


async def connect(env: AppEnv, emulator: EmulatorHandle, index: int = 0) -> dict[str, Any]:
    token = emulator.state.scenario.accounts[index].tokens[0].token
    response = await env.http.post(
        "/api/v1/accounts", json={"access_token": token}, headers=env.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def job(env: AppEnv, job_id: int) -> dict[str, Any]:
    response = await env.http.get(f"{JOBS}/{job_id}", headers=env.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ref_of(account: dict[str, Any], kind: str) -> str:
    refs: dict[str, str] = {
        "id": str(account["id"]),
        "username": account["username"],
        "@username": "@" + account["username"],
        "user_id": account["instagram_user_id"],
    }
    return refs[kind]


@pytest.mark.parametrize(
    ("sync_type", "full", "ref", "walk"),
    [
        ("FULL", False, "id", "FULL"),
        ("INCREMENTAL", False, "username", "INCREMENTAL"),
        ("MANUAL", True, "@username", "FULL"),
        ("MANUAL", False, "user_id", "INCREMENTAL"),
        (None, False, "id", "INCREMENTAL"),  # the default type
    ],
)
async def test_trigger_returns_the_new_job_then_it_runs(
    env: AppEnv,
    sync_emulator: EmulatorHandle,
    sync_type: str | None,
    full: bool,
    ref: str,
    walk: str,
) -> None:
    account = await connect(env, sync_emulator)
    body: dict[str, Any] = {"account": ref_of(account, ref)}
    if sync_type is not None:
        body["type"] = sync_type
    if full:
        body["full"] = True
    response = await env.http.post(TRIGGER, json=body, headers=env.admin)
    assert response.status_code == 202, response.text
    created = response.json()
    assert set(created) == JOB_FIELDS
    assert created["account_id"] == account["id"]
    assert created["sync_type"] == (sync_type or "INCREMENTAL")
    assert created["walk"] == walk
    assert created["trigger"] == "manual"
    assert created["status"] == "PENDING"
    assert created["started_at"] is None
    assert created["completed_at"] is None
    assert created["attempt"] == 1
    assert created["error_message"] is None
    assert created["rate_limit_hit"] is False
    assert [created[f"posts_{n}"] for n in ("processed", "added", "updated", "failed")] == [0] * 4

    await drain()
    done = await job(env, created["id"])
    assert done["status"] == "COMPLETED", done["error_message"]
    assert (done["sync_type"], done["walk"]) == (created["sync_type"], walk)
    # The first sync of the account finds every post, whatever the walk.
    assert done["posts_added"] == done["posts_processed"] == POSTS
    assert (done["posts_updated"], done["posts_failed"], done["posts_deleted"]) == (0, 0, 0)
    assert done["api_calls_made"] >= 1
    stamps = [datetime.fromisoformat(done[k]) for k in ("completed_at", "started_at", "created_at")]
    assert stamps == sorted(stamps, reverse=True)
    assert all(s.utcoffset() == timedelta(0) for s in stamps)
    assert done["error_message"] is None


async def test_a_second_trigger_returns_the_active_job(
    env: AppEnv, sync_emulator: EmulatorHandle
) -> None:
    account = await connect(env, sync_emulator)
    sync_emulator.state.set_faults(latency_s=0.3)  # keeps the first job active for a while
    first = await env.http.post(
        TRIGGER, json={"account": str(account["id"]), "type": "FULL"}, headers=env.admin
    )
    assert first.status_code == 202
    again = await env.http.post(
        TRIGGER,
        json={"account": account["username"], "type": "INCREMENTAL"},
        headers=env.admin,
    )
    assert again.status_code == 200, again.text
    active = again.json()
    assert active["id"] == first.json()["id"]
    assert active["sync_type"] == "FULL"  # the existing job, not a new INCREMENTAL one
    assert active["status"] in {"PENDING", "RUNNING"}
    sync_emulator.state.reset_faults()
    await drain()
    assert (await job(env, active["id"]))["status"] == "COMPLETED"

    listed = await env.http.get(JOBS, params={"account_id": account["id"]}, headers=env.admin)
    assert listed.json()["total"] == 1  # only one job was ever created
    # Once it finished, a new trigger creates a new job.
    later = await env.http.post(TRIGGER, json={"account": account["username"]}, headers=env.admin)
    assert later.status_code == 202
    assert later.json()["id"] != active["id"]
    await drain()


async def test_status_and_job_after_syncs(env: AppEnv, sync_emulator: EmulatorHandle) -> None:
    synced = await connect(env, sync_emulator, 0)
    idle = await connect(env, sync_emulator, 1)
    full = await env.http.post(
        TRIGGER, json={"account": synced["username"], "type": "FULL"}, headers=env.admin
    )
    await drain()
    # A new post on Instagram: the next incremental sync adds exactly that one.
    state = sync_emulator.state
    state.add_media(state.scenario.accounts[0].user_id, {"caption": "fresh #new"})
    incremental = await env.http.post(
        TRIGGER, json={"account": synced["username"]}, headers=env.admin
    )
    assert incremental.status_code == 202
    await drain()

    second = await job(env, incremental.json()["id"])
    assert second["status"] == "COMPLETED", second["error_message"]
    assert second["walk"] == "INCREMENTAL"
    assert second["posts_added"] == 1
    assert second["posts_failed"] == 0
    assert second["posts_deleted"] == 0
    first = await job(env, full.json()["id"])
    assert (first["posts_added"], first["walk"]) == (POSTS, "FULL")

    response = await env.http.get(STATUS, headers=env.admin)
    assert response.status_code == 200
    status = response.json()
    assert set(status) == {"accounts", "recent_jobs"}
    by_id = {a["account_id"]: a for a in status["accounts"]}
    assert set(by_id) == {synced["id"], idle["id"]}
    assert by_id[synced["id"]]["username"] == synced["username"]
    assert by_id[synced["id"]]["last_sync_at"] is not None
    assert by_id[idle["id"]]["last_sync_at"] is None
    for state_row in by_id.values():
        assert state_row["active_job"] is None
        assert state_row["needs_reauth"] is False
        assert state_row["sync_blocked_until"] is None
    assert [j["id"] for j in status["recent_jobs"]] == [second["id"], first["id"]]
    assert status["recent_jobs"][0] == second  # the same document as GET /jobs/{id}

    page = (await env.http.get(JOBS, params={"status": "COMPLETED"}, headers=env.admin)).json()
    assert page["total"] == 2
    assert [j["id"] for j in page["items"]] == [second["id"], first["id"]]


async def test_status_shows_the_active_job(env: AppEnv, sync_emulator: EmulatorHandle) -> None:
    account = await connect(env, sync_emulator)
    sync_emulator.state.set_faults(latency_s=0.3)
    started = await env.http.post(TRIGGER, json={"account": account["username"]}, headers=env.admin)
    status = (await env.http.get(STATUS, headers=env.admin)).json()
    (row,) = status["accounts"]
    assert row["active_job"] is not None
    assert row["active_job"]["id"] == started.json()["id"]
    assert row["active_job"]["status"] in {"PENDING", "RUNNING"}
    sync_emulator.state.reset_faults()
    await drain()


async def test_unknown_job_is_404(env: AppEnv) -> None:
    response = await env.http.get(f"{JOBS}/987654", headers=env.admin)
    assert response.status_code == 404
    assert response.json() == {"detail": "sync job 987654 not found"}
    assert (await env.http.get(f"{JOBS}/0", headers=env.admin)).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"account": "x", "type": "WEEKLY"},
        {"account": "x", "type": "full"},
        {"account": "x", "type": None},
        {"account": "x", "full": "sometimes"},
        {"account": ""},
        {"type": "FULL"},
        {"account": "x", "surprise": 1},
    ],
    ids=["unknown-type", "lowercase-type", "null-type", "bad-full", "empty", "no-account", "extra"],
)
async def test_bad_trigger_body_is_422_and_creates_nothing(
    env: AppEnv, sync_emulator: EmulatorHandle, body: dict[str, Any]
) -> None:
    account = await connect(env, sync_emulator)
    if body.get("account") == "x":
        body = {**body, "account": account["username"]}
    response = await env.http.post(TRIGGER, json=body, headers=env.admin)
    assert response.status_code == 422, response.text
    listed = (await env.http.get(JOBS, headers=env.admin)).json()
    assert listed["total"] == 0


async def test_unknown_inactive_and_reauth_accounts(
    env: AppEnv, sync_emulator: EmulatorHandle
) -> None:
    missing = await env.http.post(TRIGGER, json={"account": "nobody.here"}, headers=env.admin)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "account 'nobody.here' not found"

    account = await connect(env, sync_emulator)
    patched = await env.http.patch(
        f"/api/v1/accounts/{account['id']}", json={"is_active": False}, headers=env.admin
    )
    assert patched.status_code == 200
    inactive = await env.http.post(
        TRIGGER, json={"account": account["username"]}, headers=env.admin
    )
    assert inactive.status_code == 400
    assert "deactivated" in inactive.json()["detail"]

    async with env.db.session() as session:
        row = await session.get(InstagramAccount, account["id"])
        assert row is not None
        row.is_active = True
        row.needs_reauth = True
        row.reauth_reason = "token expired"
    reauth = await env.http.post(TRIGGER, json={"account": account["username"]}, headers=env.admin)
    assert reauth.status_code == 409
    assert "must be reconnected" in reauth.json()["detail"]
    assert (await env.http.get(JOBS, headers=env.admin)).json()["total"] == 0


async def test_trigger_needs_an_admin_key(env: AppEnv, sync_emulator: EmulatorHandle) -> None:
    account = await connect(env, sync_emulator)
    async with env.db.session() as session:
        _, read = await create_key(session, name="reader", scope="read")
    reader = {"Authorization": f"Bearer {read}"}
    body = {"account": account["username"]}
    assert (await env.http.post(TRIGGER, json=body)).status_code == 401
    assert (await env.http.post(TRIGGER, json=body, headers=reader)).status_code == 403
    assert (await env.http.get(STATUS, headers=reader)).status_code == 200
    assert (await env.http.get(STATUS)).status_code == 401
    assert (await env.http.get(JOBS, headers=reader)).json()["total"] == 0
