"""ImageProcessor: the real process pool gives the same results as a direct call."""

from __future__ import annotations

import asyncio
import time

import pytest

from instagram_service.media.errors import ImageRejected
from instagram_service.media.imaging import ImageOptions, process_image
from instagram_service.media.processor import ImageProcessor
from instagram_service.settings import Settings
from tests.media.conftest import fixture_bytes

FILES = [
    "derived-instagram-sizes/ig_portrait_4x5_1080x1350.jpg",
    "exif-orientation-examples/Portrait_6.jpg",
    "pillow/png/transparent_rgba.png",
    "pillow/gif/chi_animated_31frames.gif",
]


async def test_process_pool_matches_a_direct_call() -> None:
    options = ImageOptions()
    async with ImageProcessor(workers=2) as processor:
        results = await asyncio.gather(
            *(processor.process(fixture_bytes(name), options) for name in FILES)
        )
        with pytest.raises(ImageRejected, match="truncated"):
            await processor.process(fixture_bytes("pillow/jpeg/truncated_jpeg.jpg"), options)
        # still usable after a rejection
        again = await processor.process(fixture_bytes(FILES[0]), options)
    for name, result in zip(FILES, results, strict=True):
        assert result == process_image(fixture_bytes(name), options)
    assert again == results[0]


async def test_the_event_loop_keeps_running_while_images_are_processed() -> None:
    data = fixture_bytes("pillow/png/itxt_chunks_2400x2000.png")  # ~0.1 s of work, no draft
    started = time.perf_counter()
    process_image(data, ImageOptions())
    one_image = time.perf_counter() - started  # how long a blocking call would stall the loop
    ticks: list[float] = []
    stop = False

    async def ticker() -> None:
        while not stop:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.002)

    processor = ImageProcessor.from_settings(Settings(image_workers=2))
    await processor.process(data, ImageOptions())  # start the pool outside the measurement
    task = asyncio.create_task(ticker())
    await asyncio.gather(*(processor.process(data, ImageOptions()) for _ in range(4)))
    stop = True
    await task
    await processor.close()
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 5
    # A blocking call would leave a gap of one_image per image: the stalls would fill the
    # whole run. One long gap alone may be this busy machine descheduling the test.
    stalled = sum(gap for gap in gaps if gap > one_image / 2)
    assert stalled < 0.5 * (ticks[-1] - ticks[0]), (stalled, one_image, ticks[-1] - ticks[0])


async def test_in_thread_mode() -> None:
    processor = ImageProcessor(workers=1, in_thread=True)
    result = await processor.process(fixture_bytes(FILES[2]), ImageOptions())
    assert result.variant("thumbnail") is not None
    await processor.close()
