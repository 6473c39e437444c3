"""Fixtures of the client tests: the emulator on a loopback port, and fast client settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from instagram_service.emulator import (
    EmulatorHandle,
    EmulatorState,
    generate_scenario,
    running_emulator,
)
from instagram_service.emulator.generate import load_scenario
from instagram_service.instagram import InstagramClient, RateLimiter, close_http_client
from instagram_service.settings import Settings

DEMO_TOKEN = "IGAAdemoLumiereLongLivedToken0001"
DEMO_USER = "17841400000000101"

# Small delays so the tests stay fast; the behaviour is the same as with the defaults.
FAST = {
    "api_max_retries": 2,
    "api_retry_base_s": 0.01,
    "api_retry_max_s": 0.05,
    "http_timeout_s": 2.0,
    "rate_limit_max_delay_s": 0.2,
    "redis_url": None,
}


@pytest.fixture(scope="session", autouse=True)
async def _close_pool() -> AsyncIterator[None]:
    yield
    await close_http_client()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    """The demo scenario, served for the whole module; faults and stats reset per test."""
    with running_emulator(EmulatorState(load_scenario("demo"))) as handle:
        yield handle


@pytest.fixture
def emu(emulator: EmulatorHandle) -> EmulatorHandle:
    emulator.state.reset_faults()
    emulator.state.reset_stats()
    return emulator


@pytest.fixture(scope="module")
def big_emulator() -> Iterator[EmulatorHandle]:
    """One account with 1,000 media."""
    with running_emulator(generate_scenario(1, 1000, seed=7)) as handle:
        yield handle


def client_settings(handle: EmulatorHandle, **overrides: Any) -> Settings:
    return handle.settings(**{**FAST, **overrides})


@pytest.fixture
async def client(emu: EmulatorHandle) -> AsyncIterator[InstagramClient]:
    settings = client_settings(emu)
    limiter = RateLimiter(
        slowdown_pct=settings.rate_limit_slowdown_pct,
        stop_pct=settings.rate_limit_stop_pct,
        max_delay_s=settings.rate_limit_max_delay_s,
    )
    instagram = InstagramClient(settings, limiter=limiter)
    yield instagram
    await instagram.aclose()
