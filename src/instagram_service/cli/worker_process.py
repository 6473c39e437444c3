"""What `instagram-service worker` loads: the broker, with the process's container built at
start-up (on the broker's state, where tasks find it) and closed at shutdown."""

from __future__ import annotations

from taskiq import TaskiqEvents, TaskiqState

from instagram_service.settings import get_settings
from instagram_service.wiring import build_wired
from instagram_service.worker.broker import broker

__all__ = ["broker"]


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start(state: TaskiqState) -> None:
    state.container = build_wired(get_settings())


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop(state: TaskiqState) -> None:
    container = state.container
    del state.container
    await container.aclose()
