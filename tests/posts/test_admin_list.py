"""The admin list of posts by moderation status (one status, derived from `is_approved`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.models import InstagramPost, ModerationStatus
from instagram_service.posts.service import admin_posts
from tests.support.factories import make_account, make_post


async def test_admin_posts_by_moderation_status(session: AsyncSession) -> None:
    account = await make_account(session)
    start = datetime(2030, 1, 1, tzinfo=UTC)

    async def at(hours: int, **fields: object) -> InstagramPost:
        return await make_post(session, account, posted_at=start + timedelta(hours=hours), **fields)

    pending_old = await at(1, is_approved=None)
    pending_new = await at(2, is_approved=None)
    approved = await at(3, is_approved=True)
    rejected = await at(4, is_approved=False)
    await at(5, is_approved=None, deleted_at=start)

    async def ids(status: ModerationStatus | None, **page: int) -> list[int]:
        rows, _total = await admin_posts(session, status=status, account=str(account.id), **page)
        return [row.id for row in rows]

    assert await ids(ModerationStatus.PENDING) == [pending_new.id, pending_old.id]
    assert await ids(ModerationStatus.APPROVED) == [approved.id]
    assert await ids(ModerationStatus.REJECTED) == [rejected.id]
    assert await ids(None) == [rejected.id, approved.id, pending_new.id, pending_old.id]
    assert await ids(ModerationStatus.PENDING, limit=1, offset=1) == [pending_old.id]
    _rows, total = await admin_posts(session, status=ModerationStatus.PENDING)
    assert total >= 2
