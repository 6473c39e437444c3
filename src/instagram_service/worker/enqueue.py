"""Sending tasks by name, after the commit: services never import a tasks module.

A task gets ids, not objects. `enqueue_after_commit` sends it once the owner of the session
has committed, so a rolled-back change queues nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import TaskiqMiddleware
from taskiq.kicker import AsyncKicker
from taskiq.utils import maybe_awaitable

from instagram_service.db import after_commit
from instagram_service.observability import get_logger
from instagram_service.worker.broker import broker

log = get_logger(__name__)

TaskArg = int | str


async def enqueue(task_name: str, *args: TaskArg) -> None:
    kicker: AsyncKicker[..., object] = AsyncKicker(task_name=task_name, broker=broker, labels={})
    await kicker.kiq(*args)


async def enqueue_or_log(task_name: str, *args: TaskArg) -> None:
    """For work whose row is stored already: a failed send is logged, and a sweep finds it."""
    try:
        await enqueue(task_name, *args)
    except Exception as exc:
        log.warning("could not queue task; the sweep finds it again", task=task_name, args=args,
                    error=str(exc))  # fmt: skip


def enqueue_after_commit(
    session: AsyncSession, task_name: str, *args: TaskArg, swept: bool = True
) -> None:
    """Send `task_name(*args)` once the session commits. `swept`: a sweep finds the work again
    if the send fails (it is logged, not raised)."""
    send = enqueue_or_log if swept else enqueue
    after_commit(session, lambda: send(task_name, *args))


SEND_CONCURRENCY = 32  # sends in flight at once: a tick with 1,000 jobs must not open 1,000 sockets


def enqueue_each_after_commit(session: AsyncSession, task_name: str, ids: Sequence[int]) -> None:
    """Send `task_name(id)` for each id once the session commits, a bounded batch at a time
    (one send after another costs a round trip each: seconds for a thousand jobs)."""

    async def send_all() -> None:
        kick_many = getattr(broker, "kick_many", None)
        if kick_many is not None:  # the Redis stream broker: one pipelined round trip
            await kick_many([await _message(task_name, job_id) for job_id in ids])
            return
        for start in range(0, len(ids), SEND_CONCURRENCY):
            chunk = ids[start : start + SEND_CONCURRENCY]
            await asyncio.gather(*(enqueue(task_name, job_id) for job_id in chunk))

    if ids:
        after_commit(session, send_all)


async def _message(task_name: str, *args: TaskArg) -> Any:
    """The broker message `enqueue` would send, built the way Taskiq's kicker builds it
    (`_prepare_message` is its own step, and the send-side middlewares run on it)."""
    kicker: AsyncKicker[..., object] = AsyncKicker(task_name=task_name, broker=broker, labels={})
    message = kicker._prepare_message(*args)
    for middleware in broker.middlewares:
        if middleware.__class__.pre_send != TaskiqMiddleware.pre_send:
            message = await maybe_awaitable(middleware.pre_send(message))
    return broker.formatter.dumps(message)
