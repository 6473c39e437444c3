"""Refreshing posts from Instagram's media, the one way for the sync walk (a page at a time)
and incoming webhook processing (one media): upsert them in one transaction, then fetch the
images that need it, and tell the caller what changed for the CMS (it records the events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.instagram.schemas import IGMedia
from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia
from instagram_service.posts.changes import PageChanges
from instagram_service.posts.visibility import is_public
from instagram_service.sync.ports import MediaOutcome, MediaPort, ModerationPort
from instagram_service.sync.upsert import Outcome, load_posts, upsert_post

MAX_MEDIA_RETRIES = 3
_RETRY = (MediaStatus.PENDING, MediaStatus.FAILED)


@dataclass
class Refreshed:
    outcomes: list[Outcome] = field(default_factory=list)  # one per media, in order
    known: bool = False  # some of the media were posts we already had
    changes: PageChanges = field(default_factory=PageChanges)
    images: MediaOutcome = field(default_factory=MediaOutcome)


async def refresh(
    db: Database,
    moderation: ModerationPort,
    media: MediaPort,
    account_id: int,
    token: str,
    items: list[IGMedia],
    on_post: Callable[[Outcome], None] | None = None,
) -> Refreshed:
    refreshed = await store(db, moderation, account_id, items, on_post)
    refreshed.images = await fetch_images(db, media, account_id, token, [i.id for i in items])
    return refreshed


async def store(
    db: Database,
    moderation: ModerationPort,
    account_id: int,
    items: list[IGMedia],
    on_post: Callable[[Outcome], None] | None = None,
) -> Refreshed:
    """Upsert the media in one transaction, with the gallery's view of each post before."""
    refreshed = Refreshed()
    async with db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        moderator = await moderation.prepare(session)
        existing = await load_posts(session, [item.id for item in items])
        refreshed.known = bool(existing)
        refreshed.changes.was_public = {item.id: False for item in items}
        for post in existing.values():
            refreshed.changes.was_public[post.instagram_id] = is_public(post)
        for item in items:
            outcome, _post = upsert_post(session, account, item, existing.get(item.id), moderator)
            refreshed.outcomes.append(outcome)
            if outcome is not Outcome.UNCHANGED:
                refreshed.changes.changed.add(item.id)
            if on_post is not None:
                on_post(outcome)
            # A page is ~100 posts of rules and ORM work: in embedded mode the API's requests
            # share this event loop, and must not wait for the whole page (p99 1.5 s).
            await asyncio.sleep(0)
    return refreshed


async def fetch_images(
    db: Database,
    media: MediaPort,
    account_id: int,
    token: str,
    instagram_ids: list[str],
    *,
    chunk: int | None = None,
    on_chunk: Callable[[MediaOutcome], None] | None = None,
) -> MediaOutcome:
    """Download what these (committed) posts still miss: new or changed pictures, failed
    ones (at most MAX_MEDIA_RETRIES syncs), and waiting carousel children. `chunk` posts at
    a time (else all at once), `on_chunk` told after each."""
    async with db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        child_waiting = (
            select(PostMedia.id)
            .where(PostMedia.post_id == InstagramPost.id, PostMedia.media_status.in_(_RETRY))
            .exists()
        )
        rows = await session.execute(
            select(InstagramPost.id).where(
                InstagramPost.instagram_id.in_(instagram_ids),
                InstagramPost.sync_retry_count < MAX_MEDIA_RETRIES,
                InstagramPost.media_status.in_(_RETRY) | child_waiting,
            )
        )
        post_ids = [row[0] for row in rows]
    total = MediaOutcome()
    size = chunk or len(post_ids)
    for start in range(0, len(post_ids), size or 1):
        outcome = await media.process_posts(account, token, post_ids[start : start + size])
        total.images_done += outcome.images_done
        total.failed_post_ids += outcome.failed_post_ids
        if on_chunk is not None:
            on_chunk(outcome)
    return total
