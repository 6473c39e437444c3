"""Taskiq's Redis stream broker, with killed workers' messages reclaimed on a quiet queue too,
and one log line per retry (exponential backoff) while Redis is unreachable.

taskiq-redis takes over unacknowledged messages (XAUTOCLAIM) only after a read that returned
new messages, so on a quiet queue the task of a killed worker would wait for unrelated traffic.
Here every pass of the loop (at most `xread_block` ms apart) also reclaims messages idle for
longer than `idle_timeout`. XAUTOCLAIM hands each message to one caller, so no lock is needed.

Redis down: a worker waits for it (one line per retry) and resumes by itself; a Redis that came
back empty (no persistence) gets its consumer group again. No process waits for Redis at start:
the API serves, the scheduler's sends fail and retry, the workers' reads retry.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, BrokerMessage
from taskiq_redis import RedisStreamBroker

from instagram_service.dependencies_check import one_line
from instagram_service.observability import get_logger

log = get_logger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class Backoff:
    """1 s, 2 s, 4 s ... up to `cap`; `reset()` after a success."""

    def __init__(self, cap: float, base: float = 1.0) -> None:
        self.cap, self.base, self.failures = cap, base, 0

    def next_delay(self) -> float:
        delay: float = min(self.cap, self.base * 2.0**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class ReclaimingStreamBroker(RedisStreamBroker):
    def __init__(self, *args: Any, retry_max_s: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_max_s = retry_max_s

    async def startup(self) -> None:
        # The events only: no Redis call, so that no process waits for Redis to start. The
        # consumer group is made by the first read that finds it missing (see listen).
        await super(RedisStreamBroker, self).startup()

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        backoff = Backoff(self.retry_max_s)
        while True:
            try:
                async for message in self._listen_once(backoff):
                    yield message
            except REDIS_DOWN as exc:
                delay = backoff.next_delay()
                log.warning(f"redis unreachable, retrying in {delay:g}s: {one_line(exc)}")
                await asyncio.sleep(delay)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.info("creating the task queue's consumer group")
                with contextlib.suppress(*REDIS_DOWN):  # the next read says it, with backoff
                    await self._declare_consumer_group()

    async def _listen_once(self, backoff: Backoff) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
                if backoff.failures:
                    log.info("redis reachable again: listening for tasks")
                    backoff.reset()
                for _stream, entries in fetched or []:
                    for entry in entries:
                        yield self._ackable(entry)
                claimed: Any = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for entry in claimed[1]:
                    yield self._ackable(entry)

    def _ackable(self, entry: Any) -> AckableMessage:
        message_id, fields = entry
        return AckableMessage(
            data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=self.queue_name)
        )

    async def kick_many(self, messages: Sequence[BrokerMessage]) -> None:
        """Several messages in one round trip (a pipeline of XADDs), for a scheduler tick that
        queues a thousand jobs: one send each would cost a round trip each."""
        async with Redis(connection_pool=self.connection_pool) as redis_conn:
            pipe = redis_conn.pipeline(transaction=False)
            for message in messages:
                pipe.xadd(
                    message.labels.get("queue_name") or self.queue_name,
                    {b"data": message.message},
                    maxlen=self.maxlen,
                    approximate=self.approximate,
                )
            await pipe.execute()

    async def queue_depth(self) -> tuple[int, int]:
        """(messages not yet delivered to any worker, delivered but not acknowledged)."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            groups: Any = await redis.xinfo_groups(self.queue_name)
        for group in groups:
            name = group.get("name")
            if name in (self.consumer_group_name, self.consumer_group_name.encode()):
                return int(group.get("lag") or 0), int(group.get("pending") or 0)
        return 0, 0
