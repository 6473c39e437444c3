"""Media tasks: the daily retention cleanup, and (re)processing one post's images."""

from __future__ import annotations

from sqlalchemy import select

from instagram_service.media.cleanup import cleanup_deleted_media
from instagram_service.models import InstagramAccount, InstagramPost
from instagram_service.runtime import get_runtime
from instagram_service.worker import broker


@broker.task(task_name="media.cleanup")
async def cleanup() -> int:
    runtime = get_runtime()
    return await cleanup_deleted_media(runtime.db, runtime.settings)


@broker.task(task_name="media.process_post")
async def process_post(post_id: int) -> int:
    """Download and store one post's images now (outside a sync)."""
    runtime = get_runtime()
    async with runtime.db.session() as session:
        post = await session.get(InstagramPost, post_id)
        if post is None:
            return 0
        account = await session.scalar(
            select(InstagramAccount).where(InstagramAccount.id == post.account_id)
        )
        assert account is not None
        token = runtime.cipher.decrypt(account.access_token_encrypted)
    outcome = await runtime.media.process_posts(account, token, [post_id])
    return outcome.images_done
