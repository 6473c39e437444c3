"""Alembic environment: runs the migrations on the async engine given by migrate.py."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from instagram_service.db import make_engine
from instagram_service.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "migrate.py sets sqlalchemy.url"
    asyncio.run(_run_async(url))


run()
