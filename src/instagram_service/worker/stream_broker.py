"""Taskiq's Redis stream broker, with killed workers' messages reclaimed on a quiet queue too.

taskiq-redis takes over unacknowledged messages (XAUTOCLAIM) only after a read that returned
new messages, so on a quiet queue the task of a killed worker would wait for unrelated traffic.
Here every pass of the loop (at most `xread_block` ms apart) also reclaims messages idle for
longer than `idle_timeout`. XAUTOCLAIM hands each message to one caller, so no lock is needed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker


class ReclaimingStreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
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
