"""Connecting an account: authorize redirect, code exchange, long-lived token, refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from instagram_service.emulator import EmulatorHandle, running_emulator
from instagram_service.emulator.generate import load_scenario
from instagram_service.instagram import InstagramClient, InstagramError, RateLimiter
from tests.instagram.conftest import DEMO_USER, client_settings

REDIRECT = "https://service.example/api/v1/accounts/callback"


@pytest.fixture
def own_emulator() -> Iterator[EmulatorHandle]:
    """Tests here move the clock, so each gets its own emulator."""
    with running_emulator(load_scenario("demo")) as handle:
        yield handle


@pytest.fixture
async def oauth_client(own_emulator: EmulatorHandle) -> AsyncIterator[InstagramClient]:
    client = InstagramClient(client_settings(own_emulator), limiter=RateLimiter())
    yield client
    await client.aclose()


async def authorize(emu: EmulatorHandle, **extra: str) -> httpx.URL:
    params = {
        "client_id": emu.state.scenario.app_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "instagram_business_basic",
        "state": "xyz",
        **extra,
    }
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{emu.base_url}/oauth/authorize", params=params)
    assert response.status_code == 302
    return httpx.URL(response.headers["location"])


async def test_full_connection_flow(
    own_emulator: EmulatorHandle, oauth_client: InstagramClient
) -> None:
    location = await authorize(own_emulator)
    assert str(location).startswith(REDIRECT + "?")
    assert str(location).endswith("#_")
    assert location.params["state"] == "xyz"
    code = location.params["code"] + "#_"  # as a naive callback might keep it

    short = await oauth_client.exchange_code(code, REDIRECT)
    assert short.user_id == DEMO_USER
    assert "instagram_business_basic" in short.permissions
    me = await oauth_client.get_me(short.access_token)
    assert me.user_id == DEMO_USER

    long = await oauth_client.exchange_token(short.access_token)
    assert long.token_type == "bearer"
    assert long.expires_in is not None
    assert long.expires_in > 59 * 86400

    with pytest.raises(InstagramError, match="less than 24 hours") as young:
        await oauth_client.refresh_token(long.access_token)
    assert young.value.code == 100

    own_emulator.state.advance_clock(25 * 3600)
    fresh = await oauth_client.refresh_token(long.access_token)
    assert fresh.access_token != long.access_token
    assert (await oauth_client.get_me(fresh.access_token)).user_id == DEMO_USER


async def test_a_code_works_once(
    own_emulator: EmulatorHandle, oauth_client: InstagramClient
) -> None:
    code = (await authorize(own_emulator)).params["code"]
    await oauth_client.exchange_code(code, REDIRECT)
    with pytest.raises(InstagramError, match="has been used") as caught:
        await oauth_client.exchange_code(code, REDIRECT)
    assert caught.value.code == 400
    with pytest.raises(InstagramError, match="Invalid authorization code"):
        await oauth_client.exchange_code("AQnotacode", REDIRECT)


async def test_redirect_uri_must_match(
    own_emulator: EmulatorHandle, oauth_client: InstagramClient
) -> None:
    code = (await authorize(own_emulator)).params["code"]
    with pytest.raises(InstagramError, match="redirect_uri"):
        await oauth_client.exchange_code(code, "https://elsewhere.example/cb")


async def test_wrong_app_secret(own_emulator: EmulatorHandle) -> None:
    code = (await authorize(own_emulator)).params["code"]
    client = InstagramClient(
        client_settings(own_emulator, app_secret="wrong"), limiter=RateLimiter()
    )
    with pytest.raises(InstagramError, match="client secret"):
        await client.exchange_code(code, REDIRECT)


async def test_refusal_and_account_choice(own_emulator: EmulatorHandle) -> None:
    denied = await authorize(own_emulator, deny="1")
    query = parse_qs(urlsplit(str(denied)).query)
    assert query["error"] == ["access_denied"]
    assert query["error_reason"] == ["user_denied"]
    assert "code" not in query
    other = await authorize(own_emulator, account="clay.and.kiln")
    grant = own_emulator.state.codes[other.params["code"]]
    assert grant.user_id == "17841400000000202"


async def test_long_tokens_are_not_exchanged_and_short_ones_not_refreshed(
    own_emulator: EmulatorHandle, oauth_client: InstagramClient
) -> None:
    long = own_emulator.state.issue_token(DEMO_USER, age_s=2 * 86400)
    with pytest.raises(InstagramError, match="short-lived"):
        await oauth_client.exchange_token(long)
    short = own_emulator.state.issue_token(DEMO_USER, "short")
    with pytest.raises(InstagramError, match="long-lived"):
        await oauth_client.refresh_token(short)


async def test_refresh_is_get_only(own_emulator: EmulatorHandle) -> None:
    token = own_emulator.state.issue_token(DEMO_USER, age_s=2 * 86400)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{own_emulator.base_url}/refresh_access_token",
            params={"grant_type": "ig_refresh_token", "access_token": token},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_missing_app_credentials(own_emulator: EmulatorHandle) -> None:
    client = InstagramClient(client_settings(own_emulator, app_id=None), limiter=RateLimiter())
    with pytest.raises(InstagramError, match="IGS_APP_ID"):
        await client.exchange_code("code", REDIRECT)
