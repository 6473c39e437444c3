"""The Taskiq broker, chosen by settings: in-process (embedded) or Redis streams (scaled).

With Redis, a message is acknowledged only after its task finished, so a job whose worker
was killed is delivered again (to another worker, after the idle timeout; see stream_broker).
"""

from __future__ import annotations

import contextlib

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqState

from instagram_service.process_probes import (
    TaskMetrics,
    dependency_checks,
    open_probe_port,
    worker_index,
)
from instagram_service.settings import Broker, get_settings

TASK_MODULES = [
    "instagram_service.sync.tasks",
    "instagram_service.accounts.tasks",
    "instagram_service.media.tasks",
    "instagram_service.webhooks.tasks",
    "instagram_service.moderation.tasks",
]


def _make_broker() -> AsyncBroker:
    settings = get_settings()
    if settings.broker is Broker.REDIS:
        from instagram_service.stream_broker import ReclaimingStreamBroker

        assert settings.redis_url is not None
        return ReclaimingStreamBroker(
            settings.redis_url,
            queue_name=settings.task_queue,
            consumer_group_name="igs-workers",
            # A group made after the API queued tasks (or in a Redis that restarted empty)
            # reads the stream from its start, not only what arrives later.
            consumer_id="0",
            idle_timeout=settings.job_heartbeat_timeout_s * 1000,
            retry_max_s=settings.redis_retry_max_s,
        )
    return InMemoryBroker(await_inplace=False)


broker = _make_broker()
broker.add_middlewares(TaskMetrics())


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start_runtime(state: TaskiqState) -> None:
    from instagram_service.runtime import build_runtime, get_runtime, set_runtime

    try:
        get_runtime()  # in-process: the app already started it
    except RuntimeError:
        runtime = build_runtime(get_settings())
        set_runtime(runtime)
        state.probes = contextlib.AsyncExitStack()
        checks = dependency_checks(runtime.settings, runtime.db)
        await open_probe_port(state.probes, runtime.settings, checks, worker_index())


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop_runtime(state: TaskiqState) -> None:
    from instagram_service.runtime import get_runtime, set_runtime

    if isinstance(broker, InMemoryBroker):
        return  # the app owns the runtime
    probes: contextlib.AsyncExitStack | None = getattr(state, "probes", None)
    if probes is not None:
        await probes.aclose()
    runtime = get_runtime()
    set_runtime(None)
    await runtime.aclose()


def import_task_modules() -> None:
    import importlib

    for module in TASK_MODULES:
        importlib.import_module(module)
