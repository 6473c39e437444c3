"""The process-wide objects that tasks and the CLI share: database, API client, seams."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from instagram_service.db import Database
from instagram_service.instagram.client import InstagramClient
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings
from instagram_service.sync.engine import Progress, SyncContext
from instagram_service.sync.seams import (
    DefaultModerationSeam,
    MediaSeam,
    ModerationSeam,
    NoMediaSeam,
)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    client: InstagramClient
    moderation: ModerationSeam = field(default_factory=DefaultModerationSeam)
    media: MediaSeam = field(default_factory=NoMediaSeam)
    owns_db: bool = True

    @cached_property
    def cipher(self) -> TokenCipher:
        # Built once (not per decrypt): the keys are fixed for the runtime's settings.
        return TokenCipher.from_settings(self.settings)

    def sync_context(self, progress: Progress | None = None) -> SyncContext:
        return SyncContext(
            db=self.db,
            client=self.client,
            cipher=self.cipher,
            moderation=self.moderation,
            media=self.media,
            page_size=self.settings.page_size,
            heartbeat_timeout=timedelta(seconds=self.settings.job_heartbeat_timeout_s),
            progress=progress or Progress(),
        )

    async def aclose(self) -> None:
        await self.client.aclose()
        close_media = getattr(self.media, "aclose", None)
        if close_media is not None:
            await close_media()
        if self.owns_db:
            await self.db.dispose()


_current: Runtime | None = None


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    from instagram_service.seams import default_seams

    database = db or Database(settings.database_url, pool_size=settings.db_pool_size)
    client = InstagramClient(settings)
    moderation, media = default_seams(settings, database, client)
    return Runtime(
        settings=settings,
        db=database,
        client=client,
        moderation=moderation,
        media=media,
        owns_db=db is None,
    )


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def get_runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("the runtime is not started (app lifespan or worker startup)")
    return _current
