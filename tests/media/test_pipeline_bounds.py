"""The pipeline holds a bounded number of images in memory, whatever a page holds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.media.pipeline import MediaPipeline
from instagram_service.models import SyncStatus
from instagram_service.sync import ports
from tests.emulated import Env, emulated_runtime


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 30, seed=8)) as handle:
        yield handle


@pytest.fixture
async def env(emulator: EmulatorHandle, clean_db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with emulated_runtime(
        emulator, clean_db, tmp_path, media=True, image_workers=1, download_concurrency=1,
        page_size=30, embedded_scheduler=False,
    ) as e:  # fmt: skip
        yield e


async def test_images_in_flight_never_exceed_download_plus_encoder_slots(env: Env) -> None:
    pipeline = env.container.get(ports.MEDIA)
    assert isinstance(pipeline, MediaPipeline)
    one: Callable[..., Awaitable[Any]] = pipeline._one
    now = peak = 0
    started = 0

    async def probe(*args: Any) -> Any:
        nonlocal now, peak, started
        now += 1
        started += 1
        peak = max(peak, now)
        try:
            return await one(*args)
        finally:
            now -= 1

    pipeline._one = probe  # type: ignore[method-assign]
    account = await env.connect()
    job = await env.sync(account.id)
    assert job.status == SyncStatus.COMPLETED
    assert started >= 30  # one page of 30 posts (and album children) went through
    assert 1 < peak <= 1 + 2 * 1  # download_concurrency + 2 x image_workers
