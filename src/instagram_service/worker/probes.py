"""The metrics/probe port of a worker process and of the scheduler, and task durations."""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import time
from typing import Any

from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from instagram_service.db import Database
from instagram_service.dependencies_check import database_down, one_line, redis_down
from instagram_service.observability import TASK_SECONDS, get_logger
from instagram_service.settings import Settings
from instagram_service.worker.probe_server import Check, probe_port

log = get_logger(__name__)


def worker_index() -> int:
    """taskiq names its worker processes `worker-N`: N is added to the metrics port."""
    match = re.fullmatch(r"worker-(\d+)", multiprocessing.current_process().name)
    return int(match[1]) if match else 0


def dependency_checks(settings: Settings, db: Database) -> dict[str, Check]:
    async def database() -> str | None:
        return await database_down(db.engine)

    async def redis() -> str | None:
        return await redis_down(settings.redis_url)

    return {"database": database, "redis": redis}


async def open_probe_port(
    stack: contextlib.AsyncExitStack, settings: Settings, checks: dict[str, Check], offset: int
) -> int | None:
    """Start serving on the settings' port + offset; a busy port costs the metrics, not the
    process (its liveness probe then fails, which an orchestrator acts on)."""
    if settings.metrics_port == 0:
        return None
    port = settings.metrics_port + offset
    try:
        return await stack.enter_async_context(probe_port(settings.metrics_host, port, checks))
    except OSError as exc:
        log.warning(f"metrics port {port} unavailable, serving none: {one_line(exc)}")
        return None


class TaskMetrics(TaskiqMiddleware):
    """igs_task_seconds{task, outcome} for every task a worker runs."""

    def __init__(self) -> None:
        super().__init__()
        self._started: dict[str, float] = {}

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        self._started[message.task_id] = time.perf_counter()
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        started = self._started.pop(message.task_id, None)
        if started is not None:
            outcome = "error" if result.is_err else "ok"
            TASK_SECONDS.labels(message.task_name, outcome).observe(time.perf_counter() - started)
