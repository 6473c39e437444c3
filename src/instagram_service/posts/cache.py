"""Pre-serialised gallery responses: the gallery is read often and changes rarely.

Entries are dropped when the posts tables change: in this process at once (`invalidate`),
in other processes (workers syncing) within `check_interval_s`, through a cheap query.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from instagram_service.db import Database
from instagram_service.models import InstagramPost, PostMedia


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    etag: str


class GalleryCache:
    def __init__(self, check_interval_s: float = 1.0, max_entries: int = 512) -> None:
        self.check_interval_s = check_interval_s
        self.max_entries = max_entries
        self._entries: dict[str, CachedBody] = {}
        self._state: tuple[object, ...] | None = None
        self._checked_at = 0.0

    def invalidate(self) -> None:
        self._entries.clear()
        self._checked_at = 0.0

    async def _check(self, db: Database) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_interval_s:
            return
        async with db.sessionmaker() as session:
            posts = (
                await session.execute(
                    select(
                        func.count(), func.max(InstagramPost.updated_at), func.max(InstagramPost.id)
                    )
                )
            ).one()
            media = (await session.execute(select(func.max(PostMedia.updated_at)))).one()
        state = (*posts, *media)
        if state != self._state:
            self._entries.clear()
            self._state = state
        self._checked_at = now

    async def get(
        self, db: Database, key: str, build: Callable[[], Awaitable[bytes]]
    ) -> CachedBody:
        await self._check(db)
        cached = self._entries.get(key)
        if cached is None:
            body = await build()
            cached = CachedBody(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = cached
        return cached


gallery_cache = GalleryCache()
