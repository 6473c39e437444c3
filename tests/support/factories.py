"""Small factory functions for test objects."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.models import InstagramAccount, InstagramPost

_ids = itertools.count(1)


async def make_account(session: AsyncSession, **overrides: Any) -> InstagramAccount:
    n = next(_ids)
    fields: dict[str, Any] = {
        "instagram_user_id": f"1784{n:010d}",
        "username": f"studio_{n}",
        "access_token_encrypted": b"not-a-real-cipher",
        "followers_count": 1000,
    }
    fields.update(overrides)
    account = InstagramAccount(**fields)
    session.add(account)
    await session.flush()
    return account


async def make_post(
    session: AsyncSession, account: InstagramAccount, **overrides: Any
) -> InstagramPost:
    n = next(_ids)
    fields: dict[str, Any] = {
        "instagram_id": f"1790{n:012d}",
        "account_id": account.id,
        "media_type": "IMAGE",
        "permalink": f"https://www.instagram.com/p/P{n}/",
        "caption": f"Post {n} #hair",
        "posted_at": datetime(2024, 9, 26, 22, 36, 43, tzinfo=UTC),
        "hashtags": ["#hair"],
        "is_approved": True,
    }
    fields.update(overrides)
    post = InstagramPost(**fields)
    session.add(post)
    await session.flush()
    return post
