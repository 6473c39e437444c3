"""Fixtures of the emulator tests: the demo served on a loopback port, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from instagram_service.emulator import EmulatorHandle, running_emulator
from instagram_service.emulator.generate import load_scenario

DEMO_TOKEN = "IGAAdemoLumiereLongLivedToken0001"
DEMO_USER = "17841400000000101"


@pytest.fixture(scope="module")
def demo() -> Iterator[EmulatorHandle]:
    with running_emulator(load_scenario("demo")) as handle:
        yield handle


@pytest.fixture
def emu(demo: EmulatorHandle) -> EmulatorHandle:
    demo.state.reset_faults()
    demo.state.reset_stats()
    return demo


@pytest.fixture
async def http(emu: EmulatorHandle) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        yield client
