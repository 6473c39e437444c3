"""The Taskiq broker, chosen by settings: in-process (embedded) or Redis streams (scaled).

With Redis, a message is acknowledged only after its task finished, so a job whose worker
was killed is delivered again (to another worker, after the idle timeout; see stream_broker).

Domains declare their tasks on Taskiq's shared broker, which sends through this one. Tasks
find the process's container on `broker.state.container`: put there by the app's lifespan
(in-process) or by the worker process at start-up (`cli/worker_process.py`).
"""

from __future__ import annotations

import importlib

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker, InMemoryBroker, async_shared_broker

from instagram_service.settings import Broker, get_settings
from instagram_service.worker.probes import TaskMetrics
from instagram_service.worker.stream_broker import ReclaimingStreamBroker

# Imported by name (not by import statement): the worker knows no domain.
TASK_MODULES = [
    "instagram_service.sync.tasks",
    "instagram_service.accounts.tasks",
    "instagram_service.media.tasks",
    "instagram_service.instagram_webhooks.tasks",
    "instagram_service.webhooks.tasks",
    "instagram_service.moderation.tasks",
]


def _make_broker() -> AsyncBroker:
    settings = get_settings()
    if settings.broker is Broker.REDIS:
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
            # A Redis that restarted leaves dead connections in the pool: reconnect and retry
            # a command a few times instead of failing the first send after it is back.
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=15,
        )
    return InMemoryBroker(await_inplace=False)


broker = _make_broker()
async_shared_broker.default_broker(broker)
broker.add_middlewares(TaskMetrics())


def import_task_modules() -> None:
    """Register every domain's tasks (with the shared broker) before the broker starts."""
    for module in TASK_MODULES:
        importlib.import_module(module)
