"""Processing a stored Instagram event: refresh the media it names, or apply our `media` verb.

API calls happen outside any transaction; every write is its own short unit of work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instagram_service.accounts.service import mark_needs_reauth
from instagram_service.container import Container
from instagram_service.db import utcnow
from instagram_service.errors import ServiceError
from instagram_service.instagram.errors import InstagramError, MediaNotFound, TokenInvalid
from instagram_service.instagram_webhooks.store import Change, iter_changes
from instagram_service.models import (
    InstagramAccount,
    InstagramPost,
    SyncType,
    WebhookEvent,
    WebhookEventStatus,
)
from instagram_service.observability import WEBHOOKS_RECEIVED, get_logger
from instagram_service.posts.changes import record_post_transition
from instagram_service.posts.visibility import is_public
from instagram_service.sync import ports
from instagram_service.sync.refresh import refresh
from instagram_service.sync.service import trigger_sync
from instagram_service.sync.upsert import Outcome

log = get_logger(__name__)

REFRESH_FIELDS = frozenset({"comments", "live_comments", "mentions"})
MEDIA_VERBS = frozenset({"create", "update", "delete"})
MEDIA_ID = re.compile(r"^\d{1,40}$")  # it becomes an API path: digits only
MAX_ERROR_CHARS = 2000

PROCESSED = WebhookEventStatus.PROCESSED
IGNORED = WebhookEventStatus.IGNORED
FAILED = WebhookEventStatus.FAILED


@dataclass
class Result:
    status: str
    note: str


async def process_event(container: Container, event_id: int) -> str | None:
    """Process a received event once; returns its final status (None: nothing to do)."""
    async with container.db.session() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None or event.status != WebhookEventStatus.RECEIVED:
            return None
        raw = event.raw_body
    try:
        changes = iter_changes(json.loads(raw))
        results = [await handle_change(container, change) for change in changes]
    except Exception as exc:  # recorded on the event: one bad event must not stop the queue
        log.exception("webhook event processing crashed", event_id=event_id)
        results = [Result(FAILED, f"{type(exc).__name__}: {exc}")]
    status, error = summarise(results)
    async with container.db.session() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is not None:
            event.status = status
            event.error = error[:MAX_ERROR_CHARS] if error else None
            event.processed_at = utcnow()
    WEBHOOKS_RECEIVED.labels(status).inc()
    log.info("webhook event processed", event_id=event_id, status=status, error=error)
    return status


def summarise(results: list[Result]) -> tuple[str, str | None]:
    if not results:
        return IGNORED, "no changes in the payload"
    failed = [r.note for r in results if r.status == FAILED]
    if failed:
        return FAILED, "; ".join(failed)
    if any(r.status == PROCESSED for r in results):
        return PROCESSED, None
    return IGNORED, "; ".join(r.note for r in results)


def _media_id(change: Change) -> str | None:
    value = change.value
    if change.field in ("comments", "live_comments"):
        media = value.get("media")
        raw = media.get("id") if isinstance(media, dict) else None
    else:
        raw = value.get("media_id") or (value.get("id") if change.field == "media" else None)
    return None if raw is None else str(raw)


async def handle_change(container: Container, change: Change) -> Result:
    if change.field not in REFRESH_FIELDS and change.field != "media":
        return Result(IGNORED, f"field {change.field!r} is not handled")
    async with container.db.session() as session:
        account = await session.scalar(
            select(InstagramAccount).where(InstagramAccount.instagram_user_id == change.entry_id)
        )
        if account is None:
            return Result(IGNORED, f"unknown account {change.entry_id!r}")
        if account.needs_reauth or not account.is_active:
            return Result(IGNORED, f"account @{account.username} is inactive or needs reauth")
        account_id = account.id
    media_id = _media_id(change)
    if media_id is not None and not MEDIA_ID.match(media_id):
        return Result(IGNORED, f"invalid media id {media_id[:40]!r}")
    if change.field == "media":
        verb = str(change.value.get("verb", ""))
        if verb not in MEDIA_VERBS or media_id is None:
            return Result(IGNORED, f"media change without a known verb and id ({verb!r})")
        if verb == "delete":
            return await soft_delete(container, account_id, media_id)
        return await refresh_media(container, account_id, media_id)
    if media_id is None or not await _have_post(container, media_id):
        return await sync_account(
            container, account_id, f"{change.field} on a media we do not have"
        )
    return await refresh_media(container, account_id, media_id)


async def _have_post(container: Container, media_id: str) -> bool:
    async with container.db.session() as session:
        query = select(InstagramPost.id).where(InstagramPost.instagram_id == media_id)
        return await session.scalar(query) is not None


async def refresh_media(container: Container, account_id: int, media_id: str) -> Result:
    """Fetch the media (counts, links, caption) and upsert it as a sync would."""
    async with container.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        token = container.cipher.decrypt(account.access_token_encrypted)
    try:
        media = await container.client.get_media(token, media_id)
    except MediaNotFound:
        return await soft_delete(container, account_id, media_id, gone=True)
    except TokenInvalid as exc:
        await _needs_reauth(container, account_id, exc.reason)
        return Result(FAILED, f"token invalid, the account must be reconnected: {exc}")
    except InstagramError as exc:
        return Result(FAILED, str(exc))
    refreshed = await refresh(
        container.db, container.get(ports.MODERATION), container.get(ports.MEDIA),
        account_id, token, [media],
    )  # fmt: skip
    (outcome,) = refreshed.outcomes
    was_public = refreshed.changes.was_public[media.id]
    async with container.db.session() as session:
        query = select(InstagramPost).options(selectinload(InstagramPost.children))
        post = (await session.scalars(query.where(InstagramPost.instagram_id == media.id))).one()
        await record_post_transition(
            session,
            post,
            was_public=was_public,
            changed=outcome is not Outcome.UNCHANGED,
            base_url=container.settings.public_base_url,
            media_url=container.settings.media_public_url,
        )
    return Result(PROCESSED, f"media {media_id} {outcome.value}")


async def soft_delete(
    container: Container, account_id: int, media_id: str, *, gone: bool = False
) -> Result:
    async with container.db.session() as session:
        post = await session.scalar(
            select(InstagramPost)
            .where(InstagramPost.instagram_id == media_id)
            .options(selectinload(InstagramPost.children))
        )
        if post is None:
            return Result(IGNORED, f"media {media_id} is not one of our posts")
        if post.account_id != account_id:
            return Result(IGNORED, f"media {media_id} belongs to another account")
        if post.deleted_at is not None:
            return Result(PROCESSED, f"media {media_id} was already deleted")
        was_public = is_public(post)
        post.deleted_at = utcnow()
        await record_post_transition(
            session,
            post,
            was_public=was_public,
            changed=True,
            base_url=container.settings.public_base_url,
            media_url=container.settings.media_public_url,
        )
    why = "gone from Instagram" if gone else "deleted"
    return Result(PROCESSED, f"media {media_id} {why}: soft-deleted")


async def sync_account(container: Container, account_id: int, why: str) -> Result:
    """We cannot refresh what we do not have: an incremental sync picks it up."""
    async with container.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        try:
            job, created = await trigger_sync(
                session, account, SyncType.INCREMENTAL, trigger="webhook", queue=True
            )
        except ServiceError as exc:
            return Result(IGNORED, f"{why}; no sync: {exc.message}")
        job_id = job.id
    state = "queued" if created else "already active"
    return Result(PROCESSED, f"{why}: incremental sync {job_id} {state}")


async def _needs_reauth(container: Container, account_id: int, reason: str) -> None:
    async with container.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        if account is not None and not account.needs_reauth:
            await mark_needs_reauth(session, account, reason)
