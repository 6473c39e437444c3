"""The rate limiter: usage headers slow calls down and stop them before Instagram does."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from instagram_service.emulator import (
    EmulatorHandle,
    Scenario,
    ScenarioAccount,
    ScenarioToken,
    running_emulator,
)
from instagram_service.instagram import (
    CallStats,
    InstagramClient,
    RateLimited,
    RateLimiter,
    make_rate_limiter,
)
from instagram_service.instagram.client import token_key
from instagram_service.instagram.ratelimit import MemoryLimitStore, RedisLimitStore
from tests.instagram.conftest import DEMO_TOKEN, client_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def test_delay_grows_with_usage_and_is_bounded() -> None:
    limiter = RateLimiter(slowdown_pct=80, stop_pct=95, max_delay_s=2.0)
    delays = [limiter.delay_for(p) for p in (0, 50, 80, 85, 90, 94, 99, 250)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3] < delays[4] < delays[5] <= 2.0
    assert delays[6] == delays[7] == 2.0


async def test_stop_and_usage_expiry() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryLimitStore(clock), usage_ttl_s=60, clock=clock, sleep=Sleeps())
    headers = {"X-App-Usage": '{"call_count": 97, "total_cputime": 10, "total_time": 12}'}
    assert await limiter.record_headers("acct", headers) == 97
    assert (await limiter.usage("acct")).pct == 97
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire("acct", "GET /me")
    assert caught.value.from_limiter
    assert caught.value.retry_after_s == pytest.approx(60)
    clock.now += 61  # the reading expired: one call may go and bring a fresh one
    await limiter.acquire("acct", "GET /me")
    assert (await limiter.usage("acct")).pct == 0


BLOCKED_HEADERS = {
    "X-Business-Use-Case-Usage": '{"1784": [{"type": "instagram", "call_count": 100,'
    ' "total_cputime": 20, "total_time": 30, "estimated_time_to_regain_access": 2}]}'
}


async def test_the_budget_reopens_at_the_time_instagram_names() -> None:
    """A code-4 block with a 2-minute regain time: calls go again after 2 minutes, not after
    the 300 s the 100 % reading would otherwise be trusted for."""
    clock = Clock()
    limiter = RateLimiter(MemoryLimitStore(clock), usage_ttl_s=300, clock=clock, sleep=Sleeps())
    assert await limiter.record_headers("acct", BLOCKED_HEADERS) == 100
    assert await limiter.record_rate_limited("acct", 120.0) == pytest.approx(120)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire("acct", "GET /me")
    assert caught.value.retry_after_s == pytest.approx(120)
    clock.now += 121
    await limiter.acquire("acct", "GET /me")
    assert (await limiter.usage("acct")).pct == 0


async def test_a_full_reading_without_a_block_waits_for_its_regain_time() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryLimitStore(clock), usage_ttl_s=300, clock=clock, sleep=Sleeps())
    await limiter.record_headers("acct", BLOCKED_HEADERS)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire("acct", "GET /me")
    assert caught.value.retry_after_s == pytest.approx(120)
    clock.now += 121
    await limiter.acquire("acct", "GET /me")


async def test_backoff_without_retry_time_grows_and_ends() -> None:
    clock = Clock()
    limiter = RateLimiter(
        MemoryLimitStore(clock), backoff_base_s=10, backoff_max_s=100, clock=clock
    )
    first = await limiter.record_rate_limited("acct", None)
    assert 5 <= first <= 10
    clock.now += first + 0.1
    second = await limiter.record_rate_limited("acct", None)
    assert 10 <= second <= 20
    with pytest.raises(RateLimited):
        await limiter.acquire("acct", "GET /me/media")
    clock.now += second + 0.1
    await limiter.acquire("acct", "GET /me/media")
    await limiter.record_success("acct")
    clock.now += 1
    third = await limiter.record_rate_limited("acct", None)
    assert third <= 10  # success forgot the strikes
    assert await limiter.record_rate_limited("acct", 300) == pytest.approx(300)


async def test_slowdown_from_emulator_headers(emu: EmulatorHandle) -> None:
    emu.state.set_faults(usage_pct=90)
    sleeps = Sleeps()
    limiter = RateLimiter(slowdown_pct=80, stop_pct=95, max_delay_s=0.2, sleep=sleeps)
    client = InstagramClient(client_settings(emu), limiter=limiter)
    stats = CallStats()
    await client.get_me(DEMO_TOKEN, stats)
    assert stats.usage_pct == 90
    assert sleeps.delays == []
    await client.get_me(DEMO_TOKEN, stats)
    assert sleeps.delays == [pytest.approx(0.2 * (10 / 15) ** 2)]


async def test_stops_at_the_stop_percentage_without_calling(emu: EmulatorHandle) -> None:
    emu.state.set_faults(usage_pct=96)
    client = InstagramClient(client_settings(emu), limiter=RateLimiter(stop_pct=95))
    await client.get_me(DEMO_TOKEN)
    stats = CallStats()
    with pytest.raises(RateLimited) as caught:
        await client.get_me(DEMO_TOKEN, stats)
    assert caught.value.from_limiter
    assert caught.value.retry_after_s is not None
    assert caught.value.retry_after_s > 0
    assert stats.rate_limit_hit
    assert stats.calls == 0
    assert emu.state.stats()["total_calls"] == 1


async def test_small_budget_stops_before_instagram_refuses() -> None:
    account = ScenarioAccount(user_id="17841400000000777", username="tiny", call_budget=10,
                              tokens=[ScenarioToken(token="tok-tiny")])  # fmt: skip
    with running_emulator(Scenario(accounts=[account])) as emu:
        sleeps = Sleeps()
        limiter = RateLimiter(slowdown_pct=80, stop_pct=95, max_delay_s=0.01, sleep=sleeps)
        client = InstagramClient(client_settings(emu), limiter=limiter)

        async def call_until_refused() -> None:
            for _ in range(20):
                await client.get_me("tok-tiny")

        with pytest.raises(RateLimited) as caught:
            await call_until_refused()
        assert caught.value.from_limiter
        assert emu.state.stats()["total_calls"] == 10
        assert len(sleeps.delays) == 1  # only the call after the 90 % reading waited


def test_factory_picks_the_backend(emu: EmulatorHandle) -> None:
    assert isinstance(make_rate_limiter(client_settings(emu)).store, MemoryLimitStore)
    redis = make_rate_limiter(client_settings(emu, redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis.store, RedisLimitStore)


@pytest.mark.skipif(not os.environ.get("IGS_TEST_REDIS_URL"), reason="IGS_TEST_REDIS_URL unset")
async def test_workers_share_one_budget_through_redis(emu: EmulatorHandle) -> None:
    url = os.environ["IGS_TEST_REDIS_URL"]
    prefix = f"igs:test:{uuid.uuid4().hex}:"
    workers = [
        InstagramClient(client_settings(emu), limiter=RateLimiter(RedisLimitStore(url, prefix)))
        for _ in range(2)
    ]
    try:
        emu.state.set_faults(usage_pct=100, regain_minutes=3)
        with pytest.raises(RateLimited) as first:
            await workers[0].get_me(DEMO_TOKEN)
        assert not first.value.from_limiter
        emu.state.reset_faults()
        with pytest.raises(RateLimited) as second:
            await workers[1].get_me(DEMO_TOKEN)
        assert second.value.from_limiter
        assert second.value.retry_after_s == pytest.approx(180, abs=3)
        assert emu.state.stats()["total_calls"] == 1
        usage = await workers[1].limiter.usage(token_key(DEMO_TOKEN))
        assert usage.pct == 100
        assert usage.blocked_until is not None
    finally:
        for worker in workers:
            await worker.limiter.store._redis.delete(prefix + token_key(DEMO_TOKEN))  # type: ignore[attr-defined]
            await worker.limiter.aclose()


@pytest.mark.skipif(not os.environ.get("IGS_TEST_REDIS_URL"), reason="IGS_TEST_REDIS_URL unset")
async def test_simultaneous_rate_limit_errors_are_all_counted_on_redis() -> None:
    """Workers recording errors at once never overwrite each other (WATCH/MULTI, retried)."""
    url = os.environ["IGS_TEST_REDIS_URL"]
    prefix = f"igs:test:{uuid.uuid4().hex}:"
    limiters = [RateLimiter(RedisLimitStore(url, prefix)) for _ in range(8)]
    try:
        await limiters[0].record_success("acct")  # nothing to clear: nothing written
        assert await limiters[0].store._redis.exists(prefix + "acct") == 0  # type: ignore[attr-defined]
        await asyncio.gather(*(lim.record_rate_limited("acct", 30.0) for lim in limiters))
        state = await limiters[0].store.load("acct")
        assert state.strikes == len(limiters)
        assert state.blocked_until is not None
        await limiters[3].record_success("acct")
        assert (await limiters[5].store.load("acct")).strikes == 0
    finally:
        await limiters[0].store._redis.delete(prefix + "acct")  # type: ignore[attr-defined]
        for lim in limiters:
            await lim.aclose()
