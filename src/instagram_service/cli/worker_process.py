"""What `instagram-service worker` loads: the broker, with the process's container built at
start-up (on the broker's state, where tasks find it) and closed at shutdown, and the process's
metrics and probe port (IGS_METRICS_PORT plus the worker's index)."""

from __future__ import annotations

import contextlib
import functools

from taskiq import TaskiqEvents, TaskiqState

from instagram_service.media.stores import storage_down
from instagram_service.settings import get_settings
from instagram_service.wiring import build_wired
from instagram_service.worker.broker import broker
from instagram_service.worker.probes import dependency_checks, open_probe_port, worker_index

__all__ = ["broker"]


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start(state: TaskiqState) -> None:
    container = build_wired(get_settings())
    state.container = container
    state.probes = contextlib.AsyncExitStack()
    checks = dependency_checks(container.settings, container.db)
    checks["storage"] = functools.partial(storage_down, container.settings)  # it writes media
    await open_probe_port(state.probes, container.settings, checks, worker_index())


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop(state: TaskiqState) -> None:
    await state.probes.aclose()
    container = state.container
    del state.container
    await container.aclose()
