"""kill -9 of the process that owns the image pool leaves none of the pool's processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.media.conftest import FIXTURES

OWNER = """
import asyncio, sys
from instagram_service.media.imaging import ImageOptions
from instagram_service.media.processor import ImageProcessor

async def main() -> None:
    data = open(sys.argv[1], "rb").read()
    processor = ImageProcessor(workers=2)
    await asyncio.gather(*(processor.process(data, ImageOptions()) for _ in range(4)))
    print("ready", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None once it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return None if state in ("Z", "X") else (state, int(ppid))


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[1]
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def test_pool_processes_end_with_their_owner() -> None:
    image = FIXTURES / "derived-instagram-sizes/ig_portrait_4x5_1080x1350.jpg"
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(image)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        pool = descendants(owner.pid)
        # the forkserver and the resource tracker (children), the two workers (grandchildren)
        assert len(pool) >= 4, pool
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 20
        while (left := {pid for pid in pool if _stat(pid) is not None}) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert not left, f"still running after the owner's kill -9: {sorted(left)}"
    finally:
        if owner.poll() is None:
            owner.kill()
