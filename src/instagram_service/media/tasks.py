"""Media tasks: the daily retention cleanup, and (re)processing one post's images."""

from __future__ import annotations

from sqlalchemy import select
from taskiq import async_shared_broker

from instagram_service.container import ContainerDep
from instagram_service.media.cleanup import cleanup_deleted_media
from instagram_service.models import InstagramAccount, InstagramPost
from instagram_service.sync import ports


@async_shared_broker.task(task_name="media.cleanup")
async def cleanup(container: ContainerDep) -> int:
    return await cleanup_deleted_media(container.db, container.settings)


@async_shared_broker.task(task_name="media.process_post")
async def process_post(post_id: int, container: ContainerDep) -> int:
    """Download and store one post's images now (outside a sync)."""
    async with container.db.session() as session:
        post = await session.get(InstagramPost, post_id)
        if post is None:
            return 0
        account = await session.scalar(
            select(InstagramAccount).where(InstagramAccount.id == post.account_id)
        )
        assert account is not None
        token = container.cipher.decrypt(account.access_token_encrypted)
    outcome = await container.get(ports.MEDIA).process_posts(account, token, [post_id])
    return outcome.images_done
