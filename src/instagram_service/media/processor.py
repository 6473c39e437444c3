"""Runs `process_image` in worker processes, so the event loop never waits on Pillow."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from types import TracebackType
from typing import TYPE_CHECKING, Any

from instagram_service.media.errors import ImageRejected
from instagram_service.media.imaging import ImageOptions, ProcessedImage, process_image
from instagram_service.media.pool_worker import lower_this_thread, start_pool_worker

if TYPE_CHECKING:
    from instagram_service.settings import Settings


def _process_in_worker(data: bytes, options: ImageOptions) -> ProcessedImage:
    # the caller has the original already: do not pickle it back across the pipe
    return dataclasses.replace(process_image(data, options), original=b"")


async def _in_own_thread(work: Callable[[], object]) -> None:
    """`work()` in a thread of its own: not one of asyncio's shared ones (it lowers its
    thread's priority)."""
    starter = ThreadPoolExecutor(1, thread_name_prefix="image-pool-start")
    try:
        await asyncio.get_running_loop().run_in_executor(starter, work)
    finally:
        starter.shutdown(wait=False)


def _forget_inherited_forkserver() -> None:
    """A process forked from one that had started the forkserver (the demo syncs, then the
    server forks its worker) inherits multiprocessing's record of it; that process is not its
    child, so `ensure_running` fails with ChildProcessError and no image is processed. Forget
    the record (what `ensure_running` does for a dead one), so a forkserver of its own starts.
    The attributes are multiprocessing's own (CPython 3.11-3.13)."""
    server: Any = forkserver._forkserver
    pid = server._forkserver_pid
    if pid is None:
        return
    try:
        gone, _ = os.waitpid(pid, os.WNOHANG)  # 0: our own, alive
    except ChildProcessError:
        gone = pid  # another process's child
    if not gone:
        return
    # Inherited, or ours and just reaped here (ensure_running's own wait would then fail).
    with contextlib.suppress(OSError):
        os.close(server._forkserver_alive_fd)
    server._forkserver_address = None
    server._forkserver_alive_fd = None
    server._forkserver_pid = None


def _ready() -> None:
    """A no-op run in each new worker: once it returns, the processes are up."""


class ImageProcessor:
    """`await processor.process(data, options)`: a pool of `workers` processes, started lazily.

    At most 2 x workers images are in flight, so a sync of thousands of posts keeps memory
    flat. `in_thread=True` runs in threads instead (tests, tiny deployments); Pillow releases
    the GIL while decoding and encoding, but the pixel limit is then process-global.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        in_thread: bool = False,
        max_tasks_per_child: int | None = 500,
        nice: int = 10,
    ) -> None:
        self.workers = workers
        self.in_thread = in_thread
        self.nice = nice
        self._max_tasks_per_child = max_tasks_per_child
        self._executor: Executor | None = None
        self._slots = asyncio.Semaphore(2 * workers)
        self._starting = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, in_thread: bool = False) -> ImageProcessor:
        return cls(settings.image_workers, in_thread=in_thread, nice=settings.image_worker_nice)

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.in_thread:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="image")
            else:
                # forkserver: forking a process that runs an event loop and threads is unsafe
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["instagram_service.media.imaging"])
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    max_tasks_per_child=self._max_tasks_per_child,
                    initializer=start_pool_worker,
                    initargs=(os.getpid(), self.nice),
                )
        return self._executor

    def _started_pool(self) -> Executor:
        """The pool with its processes running. Starting the forkserver (importing Pillow and
        numpy there) and the workers blocks the caller for up to a second or two: run in a
        thread of its own, not on the event loop, where it stalled every request. That thread
        runs at the pool's niceness, so the forkserver (a second of CPU at start) inherits it:
        at the API's priority it put the gallery's p99 at about 300 ms for the first seconds
        of a sync."""
        lower_this_thread(self.nice)
        _forget_inherited_forkserver()
        executor = self._pool()
        if isinstance(executor, ProcessPoolExecutor):
            for future in [executor.submit(_ready) for _ in range(self.workers)]:
                future.result()
        return executor

    async def start(self) -> None:
        """Start the pool's processes now (else at the first image)."""
        if self._executor is None:
            async with self._starting:
                if self._executor is None:
                    await _in_own_thread(self._started_pool)

    async def process(self, data: bytes, options: ImageOptions) -> ProcessedImage:
        """Variants of one image; raises ImageRejected for bad input."""
        loop = asyncio.get_running_loop()
        async with self._slots:
            for attempt in (1, 2):
                await self.start()
                executor = self._pool()
                try:
                    result = await loop.run_in_executor(executor, _process_in_worker, data, options)
                except BrokenProcessPool:
                    # a worker died (killed for memory?): start a fresh pool, try once more
                    if self._executor is executor:
                        self._executor = None
                        executor.shutdown(wait=False, cancel_futures=True)
                    if attempt == 2:
                        raise ImageRejected("the image worker died twice on this image") from None
                    continue
                return dataclasses.replace(result, original=data)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> ImageProcessor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
