"""Business Login's `state`: single-use, short-lived, its owner's only; over the real app, with
the emulator's authorize page and code exchange on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from instagram_service.accounts.oauth import (
    BROWSER_STATE_COOKIE,
    CONSOLE_OWNER,
    start_login,
    take_state,
)
from instagram_service.db import Database, utcnow
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.errors import BadRequest
from instagram_service.models import InstagramAccount, OAuthState
from instagram_service.settings import Settings
from tests.conftest import truncate_all
from tests.support.emulated import emulated_settings
from tests.support.webhooks import AppEnv, running_app

CONNECT = "/api/v1/accounts/connect"
CALLBACK = "/api/v1/accounts/callback"


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(2, 2, seed=5)) as handle:
        yield handle


@pytest.fixture
async def env(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> AsyncIterator[AppEnv]:
    settings: Settings = emulated_settings(emulator, clean_db, tmp_path, embedded_scheduler=False)
    try:
        async with running_app(settings, clean_db) as app_env:
            yield app_env
    finally:
        await truncate_all(clean_db)


async def start(env: AppEnv) -> str:
    """The authorize URL our connect route redirects to."""
    response = await env.http.get(CONNECT, headers=env.admin)
    assert response.status_code == 307
    return response.headers["location"]


def consent(authorize_url: str, account: str | None = None) -> dict[str, str]:
    """What Instagram's authorize page sends back to the callback: code and state."""
    url = httpx.URL(authorize_url)
    if account:
        url = url.copy_add_param("account", account)
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    return {"code": query["code"][0], "state": query["state"][0]}


async def accounts(env: AppEnv) -> int:
    async with env.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(InstagramAccount)) or 0)


async def test_a_state_completes_one_connection_only(env: AppEnv, emulator: EmulatorHandle) -> None:
    url = await start(env)
    first = consent(url)
    response = await env.http.get(CALLBACK, params=first)
    assert response.status_code == 200, response.text
    # the same state with a fresh code, for another account: refused, nothing stored
    other = emulator.state.scenario.accounts[1].username
    second = consent(url, account=other)
    assert second["state"] == first["state"]
    again = await env.http.get(CALLBACK, params=second)
    assert again.status_code == 400
    assert "already used" in again.json()["detail"]
    assert await accounts(env) == 1


async def test_an_unknown_or_expired_state_stores_nothing(env: AppEnv) -> None:
    forged = consent((await start(env)).replace("state=", "state=forged"))
    response = await env.http.get(CALLBACK, params=forged)
    assert response.status_code == 400
    assert "unknown" in response.json()["detail"]
    url = await start(env)
    async with env.db.session() as session:
        await session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    late = await env.http.get(CALLBACK, params=consent(url))
    assert late.status_code == 400
    assert "expired" in late.json()["detail"]
    assert await accounts(env) == 0


async def test_a_state_is_bound_to_its_owner(env: AppEnv) -> None:
    state = parse_qs(urlsplit(await start(env)).query)["state"][0]
    async with env.db.session() as session:
        owner = (await session.scalars(select(OAuthState.owner))).one()
        assert owner.startswith("api-key:")
    async with env.db.session() as session:  # committed, as the callback does
        with pytest.raises(BadRequest, match="someone else"):
            await take_state(session, state, owner="session:other")
    async with env.db.session() as session:
        with pytest.raises(BadRequest, match="already used"):  # exposed, so used up
            await take_state(session, state, owner=owner)
    state = parse_qs(urlsplit(await start(env)).query)["state"][0]
    async with env.db.session() as session:
        assert await take_state(session, state, owner=owner) == owner
    async with env.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OAuthState)) == 0


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def test_a_browser_gets_a_page_for_a_reused_state(env: AppEnv) -> None:
    params = consent(await start(env))
    connected = await env.http.get(CALLBACK, params=params, headers=BROWSER)
    assert connected.status_code == 200
    assert connected.headers["content-type"].startswith("text/html")
    assert "Account connected" in connected.text
    again = await env.http.get(CALLBACK, params=params, headers=BROWSER)
    assert again.status_code == 400
    assert again.headers["content-type"].startswith("text/html")
    assert "<h1>The account was not connected</h1>" in again.text
    assert "already used" in again.text
    assert again.headers["cache-control"] == "no-store"
    assert await accounts(env) == 1


async def test_a_consoles_state_completes_only_in_its_browser(env: AppEnv) -> None:
    """A state started from the console is bound to that browser's cookie: the same URL
    opened anywhere else (no cookie, or another state's) is refused and used up."""
    async with env.db.session() as session:
        url = await start_login(session, env.app.state.settings, owner=f"{CONSOLE_OWNER}1")
    params = consent(url)
    foreign = await env.http.get(
        CALLBACK, params=params, cookies={BROWSER_STATE_COOKIE: "another-state"}
    )
    assert foreign.status_code == 400
    assert "another browser session" in foreign.json()["detail"]
    assert await accounts(env) == 0
    owner = await env.http.get(
        CALLBACK, params=params, cookies={BROWSER_STATE_COOKIE: params["state"]}
    )
    assert owner.status_code == 303  # back to the console, with the reason
    assert "already+used" in owner.headers["location"]
    assert await accounts(env) == 0


async def test_a_bad_code_in_a_browser_is_a_page_and_stores_nothing(env: AppEnv) -> None:
    params = consent(await start(env)) | {"code": "not-a-code-instagram-gave"}
    response = await env.http.get(CALLBACK, params=params, headers=BROWSER)
    assert response.status_code == 400
    assert "The account was not connected" in response.text
    assert await accounts(env) == 0


async def test_a_bad_code_from_an_api_client_is_a_400_not_a_500(env: AppEnv) -> None:
    params = consent(await start(env)) | {"code": "not-a-code-instagram-gave"}
    response = await env.http.get(CALLBACK, params=params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Instagram refused the login code")
    assert await accounts(env) == 0
