from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import Database
from instagram_service.migrate import current_revision, head_revision
from instagram_service.models import Base, InstagramPost, PostMedia, SyncJob
from tests.factories import make_account, make_post


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        indexes = await connection.run_sync(
            lambda c: {i["name"] for i in inspect(c).get_indexes("instagram_posts")}
        )
    assert set(Base.metadata.tables) <= tables
    assert "ix_instagram_posts_gallery" in indexes
    assert await current_revision(db.engine) == head_revision()


async def test_post_with_every_field_round_trips(session: AsyncSession) -> None:
    account = await make_account(session)
    posted = datetime(2024, 9, 26, 22, 36, 43, tzinfo=timezone(timedelta(hours=2)))
    post = await make_post(
        session,
        account,
        caption="Caf\u00e9 \U0001f487\u200d\u2640\ufe0f #balayage @anna",
        hashtags=["#balayage", "#caf\u00e9"],
        mentions=["@anna"],
        content_tags=[],
        like_count=None,
        comments_count=0,
        posted_at=posted,
        media_product_type="FEED",
        alt_text=None,
        moderation_reason={"approval": "default"},
        manual_fields=["is_featured"],
        variants={"thumbnail": {"key": "thumbnails/x.webp", "width": 300, "height": 300}},
    )
    session.add(PostMedia(post_id=post.id, position=0, instagram_id="c1", media_type="IMAGE"))
    await session.flush()
    session.expunge_all()

    loaded = (
        await session.execute(select(InstagramPost).where(InstagramPost.id == post.id))
    ).scalar_one()
    assert loaded.hashtags == ["#balayage", "#caf\u00e9"]
    assert loaded.mentions == ["@anna"]
    assert loaded.content_tags == []
    assert loaded.like_count is None
    assert loaded.comments_count == 0
    assert loaded.caption is not None
    assert "\U0001f487" in loaded.caption
    assert loaded.posted_at == posted
    assert loaded.posted_at.tzinfo is not None
    assert loaded.posted_at.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None
    assert loaded.deleted_at is None
    assert loaded.manual_fields == ["is_featured"]
    assert loaded.variants["thumbnail"]["width"] == 300
    assert loaded.is_approved is True
    assert loaded.gallery_category == "general"


async def test_instagram_id_is_unique(session: AsyncSession) -> None:
    account = await make_account(session)
    await make_post(session, account, instagram_id="dup-1")
    with pytest.raises(IntegrityError):
        await make_post(session, account, instagram_id="dup-1")


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    account = await make_account(session)
    with pytest.raises(Exception, match="naive datetime"):
        await make_post(session, account, posted_at=datetime(2024, 1, 1))  # noqa: DTZ001


async def test_one_active_sync_job_per_account(session: AsyncSession) -> None:
    account = await make_account(session)
    session.add(SyncJob(account_id=account.id, status="RUNNING", started_at=datetime.now(UTC)))
    session.add(SyncJob(account_id=account.id, status="COMPLETED"))
    await session.flush()
    session.add(SyncJob(account_id=account.id, status="PENDING"))
    with pytest.raises(IntegrityError):
        await session.flush()
