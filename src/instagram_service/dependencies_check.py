"""What is down: one short reason per dependency, for /readyz of every process."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_S = 2.0
# What a driver raises when its server is down: refused, reset, timed out, or wrapped by SQLAlchemy.
DOWN_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, DBAPIError)


def one_line(exc: BaseException) -> str:
    """`ConnectionRefusedError: [Errno 111] Connect call failed ...`, first line only, capped."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}"[:300] if detail else type(exc).__name__


async def database_down(engine: AsyncEngine) -> str | None:
    async def probe() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except Exception as exc:  # any driver error means down; say which
        return f"database unreachable: {one_line(exc)}"
    return None


async def redis_down(url: str | None) -> str | None:
    if not url:
        return None
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_S)
    try:
        await asyncio.wait_for(client.ping(), CHECK_TIMEOUT_S)
    except Exception as exc:  # refused, timeout, auth: all mean the queue is unusable
        return f"redis unreachable: {one_line(exc)}"
    finally:
        await client.aclose()
    return None
