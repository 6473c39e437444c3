"""Token storage and refresh against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from instagram_service.accounts.service import connect_account
from instagram_service.accounts.tasks import refresh_tokens
from instagram_service.db import Database, utcnow
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.errors import BadRequest
from instagram_service.models import InstagramAccount, WebhookDelivery, WebhookSubscription
from tests.emulated import Env, emulated_runtime


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(2, 3, seed=21)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with emulated_runtime(emulator, clean_db, tmp_path) as e:
        yield e


async def _stored(env: Env, account_id: int) -> InstagramAccount:
    async with env.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        return account


async def test_token_is_encrypted_at_rest(env: Env) -> None:
    account = await env.connect()
    stored = await _stored(env, account.id)
    assert env.token().encode() not in stored.access_token_encrypted
    assert env.container.cipher.decrypt(stored.access_token_encrypted) == env.token()
    assert stored.username == env.emulator.state.scenario.accounts[0].username
    assert stored.token_expires_at is not None


async def test_refresh_renews_tokens_that_are_old_enough_and_expire_soon(env: Env) -> None:
    account = await env.connect()
    old_token = env.token()
    async with env.db.session() as session:  # issued two days ago, expires in five
        await session.execute(
            update(InstagramAccount).values(
                token_issued_at=utcnow() - timedelta(days=2),
                token_expires_at=utcnow() + timedelta(days=5),
            )
        )
    assert await refresh_tokens(env.container) == 1
    stored = await _stored(env, account.id)
    fresh = env.container.cipher.decrypt(stored.access_token_encrypted)
    assert fresh != old_token
    assert stored.token_refreshed_at is not None
    assert stored.token_expires_at is not None
    assert stored.token_expires_at > utcnow() + timedelta(days=50)
    assert await refresh_tokens(env.container) == 0  # just refreshed: too young to refresh again


async def test_refresh_skips_tokens_not_expiring_soon(env: Env) -> None:
    await env.connect()
    async with env.db.session() as session:
        await session.execute(
            update(InstagramAccount).values(token_issued_at=utcnow() - timedelta(days=2))
        )
    assert await refresh_tokens(env.container) == 0  # 60 days left, outside the 10-day window


async def test_refused_refresh_marks_the_account(env: Env) -> None:
    account = await env.connect()
    env.emulator.state.revoke_token(env.token(), status="revoked")
    async with env.db.session() as session:
        await session.execute(
            update(InstagramAccount).values(
                token_issued_at=utcnow() - timedelta(days=2),
                token_expires_at=utcnow() + timedelta(days=1),
            )
        )
    assert await refresh_tokens(env.container) == 0
    stored = await _stored(env, account.id)
    assert stored.needs_reauth
    assert stored.reauth_reason


async def test_a_bad_token_is_refused_with_a_clear_message(env: Env) -> None:
    async with env.db.session() as session:
        with pytest.raises(BadRequest, match="Instagram refused the token"):
            await connect_account(session, env.container.client, env.container.cipher, "IGAAnope")
        with pytest.raises(BadRequest, match="empty"):
            await connect_account(session, env.container.client, env.container.cipher, "  ")


async def _make_due(env: Env) -> None:
    async with env.db.session() as session:
        await session.execute(
            update(InstagramAccount).values(
                token_issued_at=utcnow() - timedelta(days=2),
                token_expires_at=utcnow() + timedelta(days=1),
            )
        )


async def test_one_accounts_refresh_error_does_not_stop_the_others(env: Env) -> None:
    first, second = await env.connect(0), await env.connect(1)
    await _make_due(env)
    env.emulator.state.set_faults(fail_next=1, fail_code=10)  # a permission error, not retried
    assert await refresh_tokens(env.container) == 1
    stored = [await _stored(env, first.id), await _stored(env, second.id)]
    assert sorted(a.token_refreshed_at is not None for a in stored) == [False, True]
    assert not any(a.needs_reauth for a in stored)  # only an invalid token needs a reconnect
    assert await refresh_tokens(env.container) == 1  # the failed one is tried again at the next run


async def test_refused_refresh_tells_the_cms_once(env: Env) -> None:
    account = await env.connect()
    async with env.db.session() as session:
        session.add(
            WebhookSubscription(
                url="http://127.0.0.1:9/hook",  # nothing listens: only the records matter
                secret_encrypted=env.container.cipher.encrypt("whsec_dGVzdHRlc3R0ZXN0dGVzdA=="),
                events=["account.needs_reauth"],
            )
        )
    env.emulator.state.revoke_token(env.token(), status="revoked")
    await _make_due(env)
    assert await refresh_tokens(env.container) == 0
    async with env.db.session() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
    assert [row.event_type for row in rows if row.attempt == 1] == ["account.needs_reauth"]
    assert (await _stored(env, account.id)).needs_reauth
