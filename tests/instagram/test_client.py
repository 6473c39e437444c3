"""The client against the emulator over loopback HTTP: pages, errors, retries."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest

from instagram_service.emulator import (
    EmulatorHandle,
    Scenario,
    ScenarioAccount,
    ScenarioMedia,
    ScenarioToken,
    running_emulator,
)
from instagram_service.instagram import (
    CallStats,
    InstagramClient,
    InstagramError,
    MediaNotFound,
    PermissionDenied,
    RateLimited,
    RateLimiter,
    TokenInvalid,
    TransientError,
)
from tests.instagram.conftest import DEMO_TOKEN, DEMO_USER, client_settings


async def collect(client: InstagramClient, token: str, **kwargs: Any) -> list[Any]:
    return [page async for page in client.iter_media_pages(token, **kwargs)]


@pytest.mark.parametrize("limit", [100, 37])
async def test_pagination_of_1000_media_in_the_fewest_calls(
    big_emulator: EmulatorHandle, limit: int
) -> None:
    big_emulator.state.reset_stats()
    token = big_emulator.state.scenario.accounts[0].tokens[0].token
    client = InstagramClient(client_settings(big_emulator), limiter=RateLimiter())
    stats = CallStats()
    pages = await collect(client, token, limit=limit, stats=stats)
    ids = [m.id for p in pages for m in p.items]
    assert len(ids) == len(set(ids)) == 1000
    assert stats.calls == len(pages) == math.ceil(1000 / limit)
    assert big_emulator.state.stats()["total_calls"] == math.ceil(1000 / limit)
    stamps = [m.timestamp for p in pages for m in p.items]
    assert stamps == sorted(stamps, reverse=True)
    assert pages[-1].next_url is None


async def test_every_kind_of_media_from_the_demo(client: InstagramClient) -> None:
    items = [m for p in await collect(client, DEMO_TOKEN) for m in p.items]
    assert len(items) == 34
    kinds = {(m.media_type, m.media_product_type) for m in items}
    assert kinds == {("IMAGE", "FEED"), ("VIDEO", "FEED"), ("VIDEO", "REELS"),
                     ("CAROUSEL_ALBUM", "FEED")}  # fmt: skip
    carousel = next(m for m in items if m.is_carousel)
    assert len(carousel.children) >= 2
    assert carousel.media_url == carousel.children[0].media_url
    assert any(m.is_reel and m.media_url is None and m.thumbnail_url for m in items)
    assert any(m.like_count is None for m in items)
    assert any(m.caption is None for m in items)
    assert any(c.is_video and c.thumbnail_url for m in items for c in m.children)
    assert all(m.timestamp and m.timestamp.tzinfo is not None for m in items)


async def test_empty_page_that_still_has_next() -> None:
    when = "2025-01-01T00:00:00+0000"
    stories = [
        ScenarioMedia(id=str(100 + i), media_product_type="STORY", timestamp=when,
                      shortcode=f"S{i}")
        for i in range(4)
    ]  # fmt: skip
    feed = [
        ScenarioMedia(id=str(200 + i), timestamp=f"2024-12-0{i + 1}T00:00:00+0000",
                      shortcode=f"F{i}")
        for i in range(3)
    ]  # fmt: skip
    account = ScenarioAccount(user_id="17841400000000555", username="stories",
                              tokens=[ScenarioToken(token="tok-stories")],
                              media=stories + feed)  # fmt: skip
    with running_emulator(Scenario(accounts=[account])) as emu:
        client = InstagramClient(client_settings(emu), limiter=RateLimiter())
        pages = await collect(client, "tok-stories", limit=2)
    assert [len(p.items) for p in pages] == [0, 0, 2, 1]
    assert [m.id for p in pages for m in p.items] == ["202", "201", "200"]


async def test_account_without_media_has_no_paging() -> None:
    account = ScenarioAccount(user_id="17841400000000556", username="empty",
                              tokens=[ScenarioToken(token="tok-empty")])  # fmt: skip
    with running_emulator(Scenario(accounts=[account])) as emu:
        client = InstagramClient(client_settings(emu), limiter=RateLimiter())
        pages = await collect(client, "tok-empty")
    assert len(pages) == 1
    assert pages[0].items == []
    assert pages[0].after is None


async def test_a_next_loop_stops_with_an_error() -> None:
    base = "https://graph.instagram.com"

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"data": [{"id": "1"}], "paging": {"next": f"{base}/v25.0/me/media?after=x"}}
        return httpx.Response(200, json=body)

    settings = client_settings_offline(base)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = InstagramClient(settings, limiter=RateLimiter(), http=http)
    with pytest.raises(InstagramError, match="pagination loop"):
        await collect(client, "tok")


def client_settings_offline(base: str) -> Any:
    from instagram_service.settings import Settings

    return Settings(graph_base_url=base, redis_url=None)


async def test_since_and_until(client: InstagramClient) -> None:
    items = [m for p in await collect(client, DEMO_TOKEN) for m in p.items]
    middle = items[10].timestamp
    assert middle is not None
    since = int(middle.timestamp())
    newer = [m for p in await collect(client, DEMO_TOKEN, since=since) for m in p.items]
    assert [m.id for m in newer] == [m.id for m in items[:11]]
    older = [m for p in await collect(client, DEMO_TOKEN, until=since - 1) for m in p.items]
    assert [m.id for m in older] == [m.id for m in items[11:]]


async def test_user_media_and_children(client: InstagramClient, emu: EmulatorHandle) -> None:
    me = await client.get_me(DEMO_TOKEN)
    assert me.user_id == DEMO_USER
    assert me.id == "26000000000000101"
    assert me.username == "maison.lumiere.salon"
    assert me.media_count == 34
    same = await client.get_user(DEMO_TOKEN, DEMO_USER)
    assert same.username == me.username
    items = [m for p in await collect(client, DEMO_TOKEN, user_id=DEMO_USER) for m in p.items]
    album = next(m for m in items if m.is_carousel)
    one = await client.get_media(DEMO_TOKEN, album.id)
    assert one.children == album.children
    children = await client.get_children(DEMO_TOKEN, album.id)
    assert [c.id for c in children] == [c.id for c in album.children]


async def test_media_not_found(client: InstagramClient) -> None:
    with pytest.raises(MediaNotFound) as caught:
        await client.get_media(DEMO_TOKEN, "17999999999999999")
    assert caught.value.code == 100
    assert caught.value.fbtrace_id
    with pytest.raises(MediaNotFound):
        await client.get_children(DEMO_TOKEN, "17999999999999999")


@pytest.mark.parametrize(
    ("status", "subcode", "reason"),
    [("revoked", 458, "app removed by the user"), ("password_changed", 460, "password changed")],
)
async def test_revoked_tokens(
    client: InstagramClient, emu: EmulatorHandle, status: str, subcode: int, reason: str
) -> None:
    token = emu.state.issue_token(DEMO_USER)
    emu.state.revoke_token(token, status)
    with pytest.raises(TokenInvalid) as caught:
        await client.get_me(token)
    assert caught.value.subcode == subcode
    assert caught.value.reason == reason


async def test_unknown_and_expired_tokens(client: InstagramClient, emu: EmulatorHandle) -> None:
    with pytest.raises(TokenInvalid) as unknown:
        await client.get_me("IGAAnotatoken")
    assert unknown.value.subcode == 467
    expired = emu.state.issue_token(DEMO_USER, age_s=100, expires_in_s=50)
    with pytest.raises(TokenInvalid) as caught:
        await client.get_me(expired)
    assert caught.value.subcode == 463
    assert caught.value.reason == "token expired"
    assert "Session has expired" in caught.value.ig_message


async def test_token_dies_after_n_calls(client: InstagramClient, emu: EmulatorHandle) -> None:
    token = emu.state.issue_token(DEMO_USER)
    emu.state.reset_stats()
    emu.state.set_faults(token_invalid_after=2)
    await client.get_me(token)
    await client.get_me(token)
    with pytest.raises(TokenInvalid):
        await client.get_me(token)


async def test_permission_denied(client: InstagramClient, emu: EmulatorHandle) -> None:
    emu.state.set_faults(fail_next=1, fail_code=10)
    with pytest.raises(PermissionDenied) as caught:
        await client.get_me(DEMO_TOKEN)
    assert caught.value.code == 10
    assert emu.state.stats()["total_calls"] == 1  # not retried


async def test_transient_errors_are_retried(client: InstagramClient, emu: EmulatorHandle) -> None:
    emu.state.set_faults(fail_next=2)
    stats = CallStats()
    me = await client.get_me(DEMO_TOKEN, stats)
    assert me.user_id == DEMO_USER
    assert stats.calls == 3
    assert emu.state.stats()["total_calls"] == 3


async def test_transient_errors_give_up_after_the_bound(
    client: InstagramClient, emu: EmulatorHandle
) -> None:
    emu.state.set_faults(fail_next=10, error_http_status=503)
    stats = CallStats()
    with pytest.raises(TransientError) as caught:
        await client.get_me(DEMO_TOKEN, stats)
    assert caught.value.code == 2
    assert caught.value.http_status == 503
    assert stats.calls == 3  # one call and api_max_retries=2 retries
    assert emu.state.stats()["total_calls"] == 3


async def test_timeouts_are_transient_and_retried(emu: EmulatorHandle) -> None:
    emu.state.set_faults(timeout_next=1, timeout_s=1.0)
    client = InstagramClient(client_settings(emu, http_timeout_s=0.3), limiter=RateLimiter())
    stats = CallStats()
    started = time.monotonic()
    me = await client.get_me(DEMO_TOKEN, stats)
    assert me.user_id == DEMO_USER
    assert stats.calls == 2
    assert time.monotonic() - started < 1.0


async def test_connection_errors_are_transient() -> None:
    settings = client_settings_offline("http://127.0.0.1:9")
    settings.api_retry_base_s = 0.0
    client = InstagramClient(settings, limiter=RateLimiter())
    stats = CallStats()
    with pytest.raises(TransientError, match="connection failed"):
        await client.get_me("tok", stats)
    assert stats.calls == settings.api_max_retries + 1


async def test_rate_limit_error_blocks_the_account(
    client: InstagramClient, emu: EmulatorHandle
) -> None:
    emu.state.set_faults(usage_pct=100, regain_minutes=7)
    stats = CallStats()
    with pytest.raises(RateLimited) as caught:
        await client.get_me(DEMO_TOKEN, stats)
    assert caught.value.code == 80002
    assert caught.value.retry_after_s == pytest.approx(420, abs=2)
    assert not caught.value.from_limiter
    assert stats.rate_limit_hit
    assert stats.retry_after_s == pytest.approx(420, abs=2)
    emu.state.reset_faults()
    with pytest.raises(RateLimited) as again:
        await client.get_me(DEMO_TOKEN)
    assert again.value.from_limiter
    assert emu.state.stats()["total_calls"] == 1  # refused without calling
    usage = await client.limiter.usage(client._key(DEMO_TOKEN))
    assert usage.blocked_until is not None


async def test_facebook_login_flavour(emu: EmulatorHandle) -> None:
    settings = client_settings(emu, api_flavour="facebook")
    client = InstagramClient(settings, limiter=RateLimiter())
    stats = CallStats()
    me = await client.get_me(DEMO_TOKEN, stats)
    assert me.user_id == DEMO_USER
    assert me.biography is not None
    assert me.website == "https://maison-lumiere.example"
    assert stats.calls == 2  # /me/accounts, then the Instagram account
