"""Sending many tasks at once: the scheduler's tick pipelines its XADDs in one round trip."""

from __future__ import annotations

import json
import uuid

import pytest
from redis.asyncio import Redis

from instagram_service.worker.enqueue import _message
from instagram_service.worker.stream_broker import ReclaimingStreamBroker


async def test_kick_many_queues_each_message_once_in_order(redis_url: str | None) -> None:
    if not redis_url:
        pytest.skip("needs IGS_TEST_REDIS_URL (CI's PostgreSQL + Redis pass sets it)")
    queue = f"igs:test:kick-many:{uuid.uuid4().hex}"
    broker = ReclaimingStreamBroker(redis_url, queue_name=queue, consumer_group_name="igs-test")
    messages = [await _message("sync.run_job", job_id) for job_id in range(1, 251)]
    await broker.kick_many(messages)
    async with Redis.from_url(redis_url) as redis:
        try:
            entries = await redis.xrange(queue)
        finally:
            await redis.delete(queue)
    await broker.shutdown()
    sent = [json.loads(fields[b"data"]) for _, fields in entries]
    assert [m["task_name"] for m in sent] == ["sync.run_job"] * 250
    assert [m["args"] for m in sent] == [[job_id] for job_id in range(1, 251)]
    assert len({m["task_id"] for m in sent}) == 250
