"""A service container wired to a running emulator and the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from instagram_service.accounts.service import connect_account
from instagram_service.container import Container
from instagram_service.db import Database
from instagram_service.emulator.server import EmulatorHandle
from instagram_service.models import InstagramAccount, InstagramPost, SyncJob, SyncType
from instagram_service.sync import ports
from instagram_service.sync.engine import Progress, SyncContext, run_sync_job
from instagram_service.sync.ports import NoMedia
from instagram_service.sync.service import trigger_sync
from instagram_service.wiring import build_wired
from instagram_service.worker.broker import broker
from tests.conftest import TOKEN_KEY


@dataclass
class Env:
    container: Container
    emulator: EmulatorHandle

    @property
    def db(self) -> Database:
        return self.container.db

    def token(self, account_index: int = 0) -> str:
        return self.emulator.state.scenario.accounts[account_index].tokens[0].token

    async def connect(self, account_index: int = 0) -> InstagramAccount:
        async with self.db.session() as session:
            account, _ = await connect_account(
                session, self.container.client, self.container.cipher, self.token(account_index)
            )
            return account

    async def sync(
        self, account_id: int, sync_type: SyncType = SyncType.FULL, progress: Progress | None = None
    ) -> SyncJob:
        async with self.db.session() as session:
            account = await session.get(InstagramAccount, account_id)
            assert account is not None
            job, created = await trigger_sync(session, account, sync_type)
            assert created, "a job was already active"
        finished = await run_sync_job(SyncContext.of(self.container, progress), job.id)
        assert finished is not None
        return finished

    async def post_count(self, *, deleted: bool = False) -> int:
        async with self.db.session() as session:
            query = select(func.count()).select_from(InstagramPost)
            query = query.where(
                InstagramPost.deleted_at.is_not(None)
                if deleted
                else InstagramPost.deleted_at.is_(None)
            )
            return await session.scalar(query) or 0

    def calls(self) -> int:
        return int(self.emulator.state.stats()["total_calls"])


def emulated_settings(emulator: EmulatorHandle, db: Database, tmp: Path, **overrides: Any) -> Any:
    return emulator.settings(
        database_url=str(db.engine.url.render_as_string(hide_password=False)),
        data_dir=tmp,
        token_keys=[TOKEN_KEY],
        api_retry_base_s=0.01,
        **overrides,
    )


@asynccontextmanager
async def emulated_runtime(
    emulator: EmulatorHandle, db: Database, tmp: Path, *, media: bool = False, **overrides: Any
) -> AsyncIterator[Env]:
    """`media=False` keeps posts with their URLs only, for tests about the sync itself."""
    settings = emulated_settings(emulator, db, tmp, **overrides)
    container = build_wired(settings, db)
    if not media:
        await container.get(ports.MEDIA).aclose()  # type: ignore[attr-defined]
        container.plug(ports.MEDIA, NoMedia())
    previous = getattr(broker.state, "container", None)
    broker.state.container = container  # in-process tasks run with this container
    try:
        yield Env(container, emulator)
    finally:
        broker.state.container = previous
        await container.aclose()
