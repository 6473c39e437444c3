"""Accounts: connect with a token, settings, deactivate, delete, token refresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.accounts.profile import apply_profile
from instagram_service.db import get_or_404, utcnow
from instagram_service.errors import BadRequest, NotFound
from instagram_service.events.outbox import record_account_needs_reauth
from instagram_service.feeds.defaults import ensure_default_feed
from instagram_service.instagram.client import InstagramClient
from instagram_service.instagram.errors import InstagramError, TokenInvalid
from instagram_service.instagram.token_shape import token_shape_problem
from instagram_service.kit.pagination import MAX_ID
from instagram_service.media.storage import variant_keys
from instagram_service.models import InstagramAccount, InstagramPost, PostMedia
from instagram_service.posts.changes import record_gone_from_gallery
from instagram_service.security import TokenCipher

# A long-lived token lasts 60 days; a pasted one is assumed fresh (refresh resets it).
TOKEN_LIFETIME = timedelta(days=60)
MIN_TOKEN_AGE_FOR_REFRESH = timedelta(hours=24)


async def connect_account(
    session: AsyncSession,
    client: InstagramClient,
    cipher: TokenCipher,
    token: str,
    *,
    expires_in: int | None = None,
) -> tuple[InstagramAccount, bool]:
    """Add (or reconnect) the account a long-lived token belongs to. Returns (account, new)."""
    token = token.strip()
    if not token:
        raise BadRequest("the access token is empty")
    if problem := token_shape_problem(token):
        raise BadRequest(problem)
    try:
        user = await client.get_me(token)
    except TokenInvalid as exc:
        raise BadRequest(f"Instagram refused the token: {exc.reason}") from exc
    except InstagramError as exc:
        raise BadRequest(f"could not read the account from Instagram: {exc}") from exc
    account = await session.scalar(
        select(InstagramAccount).where(InstagramAccount.instagram_user_id == user.user_id)
    )
    created = account is None
    if account is None:
        account = InstagramAccount(instagram_user_id=user.user_id, username=user.username or "")
        session.add(account)
    apply_profile(account, user)
    now = utcnow()
    account.access_token_encrypted = cipher.encrypt(token)
    account.token_issued_at = now
    lifetime = timedelta(seconds=expires_in) if expires_in else TOKEN_LIFETIME
    account.token_expires_at = now + lifetime
    account.needs_reauth = False
    account.reauth_reason = None
    account.is_active = True
    await session.flush()
    await ensure_default_feed(session, account)
    return account, created


async def find_account(session: AsyncSession, ref: str | int) -> InstagramAccount | None:
    """An account by our id, its Instagram user id, or its username (with or without @)."""
    text = str(ref).lstrip("@")
    match = (InstagramAccount.username == text) | (InstagramAccount.instagram_user_id == text)
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:  # "²".isdigit() too
        match = (InstagramAccount.id == int(text)) | (InstagramAccount.instagram_user_id == text)
    return (await session.scalars(select(InstagramAccount).where(match))).first()


async def list_accounts(session: AsyncSession) -> Sequence[InstagramAccount]:
    return (await session.scalars(select(InstagramAccount).order_by(InstagramAccount.id))).all()


async def get_account(session: AsyncSession, ref: str | int) -> InstagramAccount:
    """`find_account`, or NotFound: an int is our id; text may be any of the three."""
    if isinstance(ref, int):
        return await get_or_404(session, InstagramAccount, ref, "account")
    account = await find_account(session, ref)
    if account is None:
        raise NotFound(f"account {ref!r} not found")
    return account


async def update_account(
    session: AsyncSession,
    account_id: int,
    *,
    auto_sync: bool | None = None,
    sync_frequency_minutes: int | None = None,
    max_posts_to_sync: int | None = None,
    is_active: bool | None = None,
    download_videos: bool | None = None,
) -> InstagramAccount:
    account = await get_account(session, account_id)
    if download_videos is not None:
        account.download_videos = download_videos
    if auto_sync is not None:
        account.auto_sync = auto_sync
    if sync_frequency_minutes is not None:
        account.sync_frequency_minutes = sync_frequency_minutes
    if max_posts_to_sync is not None:
        account.max_posts_to_sync = max_posts_to_sync
    if is_active is not None:
        account.is_active = is_active
    return account


async def delete_account(session: AsyncSession, account_id: int) -> list[str]:
    """Delete the account with all its posts; returns the storage keys to remove.

    The CMS hears `post.removed` for each post its gallery showed, and one `gallery.changed`
    (queued after the commit, like every event)."""
    account = await get_account(session, account_id)
    posts = (
        await session.scalars(
            select(InstagramPost)
            .where(InstagramPost.account_id == account.id)
            .options(selectinload(InstagramPost.children))
        )
    ).all()
    await record_gone_from_gallery(session, posts, f"account @{account.username} deleted")
    keys: set[str] = set()
    for post in posts:
        rows: list[InstagramPost | PostMedia] = [post, *post.children]
        keys.update(*(variant_keys(row.variants) for row in rows))
    if account.avatar_key:
        keys.add(account.avatar_key)
    await session.delete(account)
    await session.flush()
    return sorted(keys)


async def mark_needs_reauth(session: AsyncSession, account: InstagramAccount, reason: str) -> None:
    """Stop syncs for the account and tell the CMS (once: repeated marks emit nothing)."""
    already = account.needs_reauth
    account.needs_reauth = True
    account.reauth_reason = reason
    if not already:
        await record_account_needs_reauth(session, account, reason)


async def accounts_to_refresh(
    session: AsyncSession, window: timedelta
) -> Sequence[InstagramAccount]:
    """Tokens at least 24 hours old that expire within the window."""
    now = utcnow()
    return (
        await session.scalars(
            select(InstagramAccount).where(
                InstagramAccount.needs_reauth.is_(False),
                InstagramAccount.is_active.is_(True),
                InstagramAccount.token_issued_at <= now - MIN_TOKEN_AGE_FOR_REFRESH,
                InstagramAccount.token_expires_at <= now + window,
            )
        )
    ).all()


async def refresh_account_token(
    session: AsyncSession, client: InstagramClient, cipher: TokenCipher, account: InstagramAccount
) -> bool:
    """Refresh one token; an invalid token marks the account for reconnection."""
    token = cipher.decrypt(account.access_token_encrypted)
    try:
        fresh = await client.refresh_token(token)
    except TokenInvalid as exc:
        await mark_needs_reauth(session, account, exc.reason)
        return False
    now = utcnow()
    account.access_token_encrypted = cipher.encrypt(fresh.access_token)
    account.token_issued_at = now
    account.token_refreshed_at = now
    account.token_expires_at = now + (
        timedelta(seconds=fresh.expires_in) if fresh.expires_in else TOKEN_LIFETIME
    )
    return True


async def post_counts(session: AsyncSession) -> dict[int, int]:
    """Not-deleted posts per account id."""
    rows = await session.execute(
        select(InstagramPost.account_id, func.count())
        .where(InstagramPost.deleted_at.is_(None))
        .group_by(InstagramPost.account_id)
    )
    return {int(account_id): int(count) for account_id, count in rows.tuples()}
