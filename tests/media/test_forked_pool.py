"""A process forked from one that already ran the image pool (the demo syncs, then the
server forks its worker) processes images with a pool of its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.media.conftest import FIXTURES

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    from instagram_service.media.imaging import ImageOptions
    from instagram_service.media.processor import ImageProcessor

    DATA = Path(sys.argv[1]).read_bytes()

    async def one() -> None:
        processor = ImageProcessor(1)
        try:
            result = await processor.process(DATA, ImageOptions())
            assert result.variant("thumbnail") is not None
        finally:
            await processor.close()

    if __name__ == "__main__":
        asyncio.run(one())  # the parent starts the forkserver
        child = os.fork()
        if child == 0:
            try:
                asyncio.run(one())
            except BaseException as exc:
                print(f"child failed: {type(exc).__name__}: {exc}", flush=True)
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(child, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """
)


def test_a_forked_process_gets_a_forkserver_of_its_own(tmp_path: Path) -> None:
    script = tmp_path / "forked_pool.py"
    script.write_text(SCRIPT)
    image = FIXTURES / "derived-instagram-sizes/ig_portrait_4x5_1080x1350.jpg"
    run = subprocess.run(
        [sys.executable, str(script), str(image)], capture_output=True, text=True, timeout=120
    )
    # Before: "child failed: ChildProcessError: [Errno 10] No child processes".
    assert run.returncode == 0, run.stdout + run.stderr


async def test_a_dead_forkserver_of_our_own_is_replaced() -> None:
    """The forkserver killed between two pools (OOM killer, an operator): the next pool
    starts a new one instead of failing."""
    import os
    import signal
    import time
    from multiprocessing import forkserver

    from instagram_service.media.imaging import ImageOptions
    from instagram_service.media.processor import ImageProcessor

    data = (FIXTURES / "derived-instagram-sizes/ig_portrait_4x5_1080x1350.jpg").read_bytes()
    first = ImageProcessor(1)
    await first.process(data, ImageOptions())
    await first.close()
    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _dead(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = ImageProcessor(1)
    try:
        result = await second.process(data, ImageOptions())
    finally:
        await second.close()
    assert result.variant("thumbnail") is not None


def _dead(pid: int) -> bool:
    """Gone, or a zombie (dead, not yet waited for)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"
