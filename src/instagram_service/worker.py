"""The Taskiq broker, chosen by settings: in-process (embedded) or Redis streams (scaled).

With Redis, a message is acknowledged only after its task finished, so a job whose worker
was killed is delivered again (to another worker, after the idle timeout; see stream_broker).
"""

from __future__ import annotations

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqState

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
            idle_timeout=settings.job_heartbeat_timeout_s * 1000,
        )
    return InMemoryBroker(await_inplace=False)


broker = _make_broker()


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start_runtime(_state: TaskiqState) -> None:
    from instagram_service.runtime import build_runtime, get_runtime, set_runtime

    try:
        get_runtime()  # in-process: the app already started it
    except RuntimeError:
        set_runtime(build_runtime(get_settings()))


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop_runtime(_state: TaskiqState) -> None:
    from instagram_service.runtime import get_runtime, set_runtime

    if isinstance(broker, InMemoryBroker):
        return  # the app owns the runtime
    runtime = get_runtime()
    set_runtime(None)
    await runtime.aclose()


def import_task_modules() -> None:
    import importlib

    for module in TASK_MODULES:
        importlib.import_module(module)
