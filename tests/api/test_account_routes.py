"""The account routes over the real app (lifespan, in-process broker, images stored) and a
real SQLite file; `/me`, media and images come over loopback HTTP from the emulator.

This module keeps its own database file: the package's shared `data` must not be truncated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import InstagramAccount, InstagramPost, PostMedia, SyncJob
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings
from tests.conftest import truncate_all
from tests.emulated import emulated_settings
from tests.webhooks.support import AppEnv, drain, running_app

ACCOUNTS = "/api/v1/accounts"
POSTS = 5


@pytest.fixture
def accounts_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(2, POSTS, seed=73)) as handle:
        yield handle


@pytest.fixture
def app_settings(accounts_emulator: EmulatorHandle, own_db: Database, tmp_path: Path) -> Settings:
    settings: Settings = emulated_settings(
        accounts_emulator, own_db, tmp_path, embedded_scheduler=False
    )
    return settings


@pytest.fixture
async def env(app_settings: Settings, own_db: Database) -> AsyncIterator[AppEnv]:
    await truncate_all(own_db)
    async with running_app(app_settings, own_db) as app_env:
        yield app_env


def token_of(emulator: EmulatorHandle, index: int = 0) -> str:
    return emulator.state.scenario.accounts[index].tokens[0].token


async def add(env: AppEnv, token: str) -> dict[str, Any]:
    response = await env.http.post(ACCOUNTS, json={"access_token": token}, headers=env.admin)
    assert response.status_code == 201, response.text
    assert token not in response.text
    body: dict[str, Any] = response.json()
    return body


async def test_add_by_token_reads_the_profile(
    env: AppEnv, accounts_emulator: EmulatorHandle, app_settings: Settings
) -> None:
    scenario = accounts_emulator.state.scenario.accounts[0]
    token = token_of(accounts_emulator)
    before = datetime.now(UTC)
    body = await add(env, f"  {token}\n")  # pasted with blanks around it
    assert body["instagram_user_id"] == scenario.user_id
    assert body["username"] == scenario.username
    assert body["name"] == scenario.name
    assert body["account_type"] == "BUSINESS"
    assert body["followers_count"] == scenario.followers_count
    assert body["media_count"] == POSTS
    assert (body["is_active"], body["needs_reauth"], body["reauth_reason"]) == (True, False, None)
    assert (body["auto_sync"], body["last_sync_at"], body["last_full_sync_at"]) == (
        True,
        None,
        None,
    )
    expires = datetime.fromisoformat(body["token_expires_at"])
    assert before + timedelta(days=59) < expires < datetime.now(UTC) + timedelta(days=61)
    assert not {k for k in body if "token" in k} - {"token_expires_at"}

    # Stored encrypted, and it is the token that was given (trimmed).
    async with env.db.session() as session:
        row = await session.get(InstagramAccount, body["id"])
        assert row is not None
        assert token.encode() not in row.access_token_encrypted
        assert TokenCipher(app_settings.token_keys).decrypt(row.access_token_encrypted) == token

    # Connecting the same account again updates it: no second row.
    again = await add(env, token)
    assert again["id"] == body["id"]
    got = await env.http.get(f"{ACCOUNTS}/{body['id']}", headers=env.admin)
    assert got.status_code == 200
    assert got.json()["username"] == scenario.username
    async with env.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InstagramAccount)) == 1


@pytest.mark.parametrize(
    ("token", "detail"),
    [("IGAAnotavalidtoken0000", "Instagram refused the token"), ("   ", "empty")],
    ids=["unknown", "blank"],
)
async def test_add_with_a_bad_token_is_400(env: AppEnv, token: str, detail: str) -> None:
    response = await env.http.post(ACCOUNTS, json={"access_token": token}, headers=env.admin)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    if token.strip():
        assert token not in response.text
    async with env.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InstagramAccount)) == 0


async def test_add_body_is_validated(env: AppEnv) -> None:
    for body in ({}, {"access_token": ""}, {"access_token": "x", "extra": 1}):
        response = await env.http.post(ACCOUNTS, json=body, headers=env.admin)
        assert response.status_code == 422


async def test_patch_settings_and_deactivate(
    env: AppEnv, accounts_emulator: EmulatorHandle
) -> None:
    account = await add(env, token_of(accounts_emulator))
    url = f"{ACCOUNTS}/{account['id']}"
    patched = await env.http.patch(
        url,
        json={"auto_sync": False, "sync_frequency_minutes": 30, "max_posts_to_sync": 50},
        headers=env.admin,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["auto_sync"], body["sync_frequency_minutes"], body["max_posts_to_sync"]) == (
        False,
        30,
        50,
    )
    assert body["is_active"] is True
    # A field left out is left alone.
    only_one = (await env.http.patch(url, json={"max_posts_to_sync": 7}, headers=env.admin)).json()
    assert (only_one["auto_sync"], only_one["sync_frequency_minutes"]) == (False, 30)
    assert only_one["max_posts_to_sync"] == 7
    async with env.db.session() as session:
        row = await session.get(InstagramAccount, account["id"])
        assert row is not None
        assert (row.auto_sync, row.sync_frequency_minutes, row.max_posts_to_sync) == (False, 30, 7)

    deactivated = await env.http.patch(url, json={"is_active": False}, headers=env.admin)
    assert deactivated.json()["is_active"] is False
    assert (await env.http.get(url, headers=env.admin)).json()["is_active"] is False
    refused = await env.http.post(
        "/api/v1/sync/trigger", json={"account": account["username"]}, headers=env.admin
    )
    assert refused.status_code == 400
    assert "deactivated" in refused.json()["detail"]
    # Connecting it again with its token brings it back.
    back = await add(env, token_of(accounts_emulator))
    assert (back["id"], back["is_active"]) == (account["id"], True)


@pytest.mark.parametrize(
    "body",
    [
        {"sync_frequency_minutes": 4},
        {"sync_frequency_minutes": 7 * 24 * 60 + 1},
        {"max_posts_to_sync": 0},
        {"max_posts_to_sync": 10_001},
        {"auto_sync": "often"},
        {"username": "renamed"},
    ],
    ids=["too-often", "too-rare", "no-posts", "too-many-posts", "not-a-bool", "read-only-field"],
)
async def test_bad_patch_is_422_and_changes_nothing(
    env: AppEnv, accounts_emulator: EmulatorHandle, body: dict[str, Any]
) -> None:
    account = await add(env, token_of(accounts_emulator))
    url = f"{ACCOUNTS}/{account['id']}"
    response = await env.http.patch(url, json=body, headers=env.admin)
    assert response.status_code == 422
    assert (await env.http.get(url, headers=env.admin)).json() == account


async def test_unknown_account_is_404(env: AppEnv) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await env.http.request(
            method,
            f"{ACCOUNTS}/424242",
            json={"auto_sync": True} if method == "PATCH" else None,
            headers=env.admin,
        )
        assert response.status_code == 404, method
        assert response.json() == {"detail": "account 424242 not found"}


async def test_admin_routes_need_an_admin_key(
    env: AppEnv, accounts_emulator: EmulatorHandle
) -> None:
    token = token_of(accounts_emulator)
    assert (await env.http.post(ACCOUNTS, json={"access_token": token})).status_code == 401
    account = await add(env, token)
    assert (await env.http.delete(f"{ACCOUNTS}/{account['id']}")).status_code == 401


async def test_delete_removes_posts_and_image_files(
    env: AppEnv, accounts_emulator: EmulatorHandle, app_settings: Settings
) -> None:
    doomed = await add(env, token_of(accounts_emulator, 0))
    kept = await add(env, token_of(accounts_emulator, 1))
    for account in (doomed, kept):
        response = await env.http.post(
            "/api/v1/sync/trigger",
            json={"account": account["username"], "type": "FULL"},
            headers=env.admin,
        )
        assert response.status_code == 202
    await drain()
    files = await stored_files(env.db, app_settings)
    assert set(files) == {doomed["id"], kept["id"]}
    assert files[doomed["id"]]
    assert files[kept["id"]]
    assert all(path.is_file() for path in files[doomed["id"]])

    response = await env.http.delete(f"{ACCOUNTS}/{doomed['id']}", headers=env.admin)
    assert response.status_code == 204
    assert response.content == b""

    assert not [p for p in files[doomed["id"]] if p.exists()]
    assert all(path.is_file() for path in files[kept["id"]])  # the other account's stay
    async with env.db.session() as session:
        assert await session.get(InstagramAccount, doomed["id"]) is None
        for model in (InstagramPost, SyncJob):
            count = select(func.count()).select_from(model)
            assert await session.scalar(count.where(model.account_id == doomed["id"])) == 0
            assert await session.scalar(count.where(model.account_id == kept["id"])) != 0
        orphans = (
            select(func.count())
            .select_from(PostMedia)
            .where(PostMedia.post_id.not_in(select(InstagramPost.id)))
        )
        assert await session.scalar(orphans) == 0
    assert (await env.http.get(f"{ACCOUNTS}/{doomed['id']}", headers=env.admin)).status_code == 404
    assert (
        await env.http.delete(f"{ACCOUNTS}/{doomed['id']}", headers=env.admin)
    ).status_code == 404


async def stored_files(db: Database, settings: Settings) -> dict[int, list[Path]]:
    """Every stored image file of every post and carousel child, by account."""
    files: dict[int, list[Path]] = {}
    async with db.session() as session:
        posts = (await session.scalars(select(InstagramPost))).all()
        for post in posts:
            await session.refresh(post, ["children"])
            rows: list[InstagramPost | PostMedia] = [post, *post.children]
            for row in rows:
                for variant in (row.variants or {}).values():
                    if "key" in variant:
                        path = settings.media_root / str(variant["key"])
                        files.setdefault(post.account_id, []).append(path)
    return files


async def test_no_token_in_any_response_or_log_line(
    env: AppEnv, accounts_emulator: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "instagram_service", "taskiq"):
        caplog.set_level(logging.DEBUG, logger=name)
    token = token_of(accounts_emulator)
    other = token_of(accounts_emulator, 1)
    texts: list[str] = []

    async def call(method: str, url: str, body: Any = None) -> Any:
        response = await env.http.request(method, url, json=body, headers=env.admin)
        texts.append(response.text + str(response.headers))
        return response

    added = (await call("POST", ACCOUNTS, {"access_token": token})).json()
    await call("POST", ACCOUNTS, {"access_token": other})
    await call("POST", ACCOUNTS, {"access_token": token + "broken"})
    await call("GET", ACCOUNTS)
    await call("GET", f"{ACCOUNTS}/{added['id']}")
    await call("PATCH", f"{ACCOUNTS}/{added['id']}", {"sync_frequency_minutes": 15})
    # A sync whose calls fail first (retries are logged), then a token that dies.
    accounts_emulator.state.set_faults(fail_next=1)
    await call("POST", "/api/v1/sync/trigger", {"account": added["username"], "type": "FULL"})
    await drain()
    accounts_emulator.state.set_faults(token_invalid_after=0)
    await call("POST", "/api/v1/sync/trigger", {"account": added["username"], "type": "FULL"})
    await drain()
    accounts_emulator.state.reset_faults()
    await call("GET", "/api/v1/sync/status")
    await call("GET", "/api/v1/sync/jobs")
    await call("GET", "/api/v1/posts")
    await call("DELETE", f"{ACCOUNTS}/{added['id']}")

    assert caplog.records, "nothing was logged: the capture is not working"
    assert any("access_token=" in r.getMessage() for r in caplog.records)  # URLs were logged
    logged = caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in caplog.records
    )
    for secret in (token, other, token + "broken"):
        assert secret not in logged
        for text in texts:
            assert secret not in text
