"""Pre-serialised gallery responses: the gallery is read often and changes rarely.

Entries are dropped when the posts tables change: in this process at once (`invalidate`),
in other processes (workers syncing) within `check_interval_s`, through a cheap query. That
query's fingerprint holds the accounts' `content_version` counters (bumped in the changing
transaction, models/content_version.py): timestamps set at flush time can commit out of
order, so on their own they can miss a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import brotli
import zstandard
from sqlalchemy import event, func, select, true
from sqlalchemy.orm import Session

from instagram_service.db import Database
from instagram_service.models import Feed, InstagramAccount, InstagramPost, PostMedia
from instagram_service.observability import get_logger

log = get_logger(__name__)

# Best first. Compressed once per cached body, so at a high level (a 30 KB page: brotli 9
# about 3 ms); responses that are not cached are compressed by the middleware in app.py.
ENCODINGS = ("br", "zstd", "gzip")
_COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "br": lambda body: brotli.compress(body, quality=9),
    "zstd": zstandard.ZstdCompressor(level=12).compress,
    "gzip": lambda body: gzip.compress(body, compresslevel=9, mtime=0),
}


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    etag: str
    # The same body compressed, made on the first request that accepts each encoding.
    encoded: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def encoded_as(self, encoding: str) -> bytes:
        data = self.encoded.get(encoding)
        if data is None:
            data = self.encoded[encoding] = _COMPRESS[encoding](self.body)
        return data


class GalleryCache:
    def __init__(self, check_interval_s: float = 1.0, max_entries: int = 512) -> None:
        self.check_interval_s = check_interval_s
        self.max_entries = max_entries
        self._entries: dict[str, CachedBody] = {}
        # The same bodies by raw (path, host and query string), with the route that answered
        # them first: looked up before routing (posts/http.FreshHitMiddleware).
        self._raw: dict[tuple[str, bytes], tuple[CachedBody, object]] = {}
        self._state: tuple[object, ...] | None = None
        self._checked_at = 0.0
        self._generation = 0
        self._flights: dict[tuple[str, int], asyncio.Future[CachedBody | None]] = {}
        # Bodies from before a change the periodic check noticed, served while their
        # rebuild runs in the background (see `_check`).
        self._stale: dict[str, CachedBody] = {}
        self._refreshing: set[asyncio.Task[None]] = set()

    def _drop(self, *, keep_stale: bool = False) -> None:
        if keep_stale and len(self._stale) + len(self._entries) <= self.max_entries:
            self._stale.update(self._entries)
        else:
            self._stale.clear()
        self._entries.clear()
        self._raw.clear()
        self._generation += 1

    def invalidate(self) -> None:
        self._drop()
        self._checked_at = 0.0

    async def _check(self, db: Database) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_interval_s:
            return
        # Marked first, so that concurrent requests keep answering from the cache instead of
        # all running this query (under load that stampede made p99 180-270 ms).
        self._checked_at = now
        posts = select(
            func.count(), func.max(InstagramPost.updated_at), func.max(InstagramPost.id)
        ).subquery()
        media = select(func.max(PostMedia.updated_at)).scalar_subquery()
        feeds = select(func.count(), func.max(Feed.updated_at), func.max(Feed.id)).subquery()
        # The count and max id notice accounts deleted or added; the sum, any change to posts
        # written through an ORM session. The timestamps above still catch most other writes.
        accounts = select(
            func.count(),
            func.max(InstagramAccount.id),
            func.sum(InstagramAccount.content_version),
        ).subquery()
        try:
            async with db.sessionmaker() as session:
                query = select(posts, accounts, feeds, media).select_from(
                    posts.join(accounts, true()).join(feeds, true())
                )
                state = tuple((await session.execute(query)).one())
        except BaseException:
            self._checked_at = 0.0
            raise
        if state != self._state:
            # While this process runs a sync, a change noticed here is most likely the sync's
            # (already up to a second old): the old bodies are served while one rebuild each
            # runs in the background, so no request waits for a build (under a sync's load a
            # build took 50-250 ms, all of it in the gallery's p99). Otherwise the next
            # response shows the change, as after a change made in this process.
            self._drop(keep_stale=self._state is not None and _syncs_deferring > 0)
            self._state = state

    async def _built_once(
        self, key: str, generation: int, build: Callable[[], Awaitable[bytes]]
    ) -> CachedBody:
        """One build per key and generation however many requests miss at once: the others
        wait for it. During a sync every commit drops the cache, and 64 concurrent misses
        each building the page (a SQLite connection and a query each) starved the sync and
        made the gallery's p99 over a second. A build that fails is not shared: the next
        waiter builds for itself."""
        flight_key = (key, generation)
        while (flight := self._flights.get(flight_key)) is not None:
            shared = await asyncio.shield(flight)  # a waiter cancelled leaves the build alone
            if shared is not None:
                return shared
        flight = asyncio.get_running_loop().create_future()
        self._flights[flight_key] = flight
        result: CachedBody | None = None
        try:
            body = await build()
            result = CachedBody(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            return result
        finally:
            del self._flights[flight_key]
            flight.set_result(result)

    def _refresh_in_background(
        self, key: str, generation: int, build: Callable[[], Awaitable[bytes]]
    ) -> None:
        if (key, generation) in self._flights:
            return  # being rebuilt already

        async def refresh() -> None:
            try:
                cached = await self._built_once(key, generation, build)
            except Exception as exc:  # the next request builds and answers the error itself
                log.warning("gallery cache rebuild failed", key=key[:100], error=str(exc)[:200])
                self._stale.pop(key, None)
                return
            if generation == self._generation:
                self._entries[key] = cached
                self._stale.pop(key, None)

        task = asyncio.create_task(refresh())
        self._refreshing.add(task)  # a reference, so the task is not collected mid-run
        task.add_done_callback(self._refreshing.discard)

    def fresh(self, raw_key: tuple[str, bytes]) -> tuple[CachedBody, object] | None:
        """A hit and its route, without a query, while the last check is recent; else None
        (use `get`)."""
        if time.monotonic() - self._checked_at >= self.check_interval_s:
            return None
        return self._raw.get(raw_key)

    async def get(
        self,
        db: Database,
        key: str,
        build: Callable[[], Awaitable[bytes]],
        raw_key: tuple[str, bytes] | None = None,
        route: object = None,
    ) -> CachedBody:
        await self._check(db)
        generation = self._generation
        cached = self._entries.get(key)
        if cached is None and (stale := self._stale.get(key)) is not None:
            self._refresh_in_background(key, generation, build)
            return stale
        if cached is None:
            cached = await self._built_once(key, generation, build)
            if generation != self._generation:  # built from rows older than a change
                return cached
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = cached
        if raw_key is not None:
            if len(self._raw) >= self.max_entries:
                self._raw.clear()
            self._raw[raw_key] = (cached, route)
        return cached


gallery_cache = GalleryCache()


# In this process, a commit that changed posts (an admin's PATCH) drops the cache at once, so
# the next gallery response (and its ETag) shows the change. A sync's commits inside
# `drops_deferred` are left to the periodic check instead.
_WATCHED = (InstagramPost, PostMedia, InstagramAccount, Feed)
_drop_deferred: ContextVar[bool] = ContextVar("gallery_drop_deferred", default=False)
_syncs_deferring = 0  # how many `drops_deferred` blocks run in this process now


@contextlib.contextmanager
def drops_deferred() -> Iterator[None]:
    """Commits inside (a sync job: many a second) are noticed by the next periodic check,
    within `check_interval_s`, as a worker process's commits are, instead of each dropping
    the cache at once and making every gallery request wait for a rebuild; meanwhile the
    changes the check notices are served stale until rebuilt (`_check`). Leaving drops it:
    the job's end state is seen at once."""
    global _syncs_deferring
    token = _drop_deferred.set(True)
    _syncs_deferring += 1
    try:
        yield
    finally:
        _syncs_deferring -= 1
        _drop_deferred.reset(token)
        gallery_cache.invalidate()


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    changed = (*session.new, *session.deleted, *session.dirty)
    if any(isinstance(row, _WATCHED) for row in changed):
        session.info["gallery_changed"] = True


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    if session.info.pop("gallery_changed", False) and not _drop_deferred.get():
        gallery_cache.invalidate()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop("gallery_changed", None)
