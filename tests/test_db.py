from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import (
    Boolean,
    Integer,
    LargeBinary,
    String,
    column,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from instagram_service.db import Database, JSONType, UTCDateTime
from instagram_service.migrate import alembic_config, current_revision, head_revision, upgrade
from instagram_service.models import (
    Base,
    Feed,
    InstagramAccount,
    InstagramPost,
    PostMedia,
    SyncJob,
)
from tests.conftest import separate_database
from tests.support.factories import make_account, make_post


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        indexes = await connection.run_sync(
            lambda c: {i["name"] for i in inspect(c).get_indexes("instagram_posts")}
        )
    assert set(Base.metadata.tables) <= tables
    assert "ix_instagram_posts_gallery" in indexes
    assert await current_revision(db.engine) == head_revision()


async def test_every_model_column_exists_after_the_migrations(db: Database) -> None:
    """A column added to a model without a migration fails here, not in production."""

    def columns(connection: Any) -> dict[str, set[str]]:
        inspector = inspect(connection)
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in Base.metadata.tables}

    async with db.engine.connect() as connection:
        migrated = await connection.run_sync(columns)
    missing = {
        (name, column.name)
        for name, table in Base.metadata.tables.items()
        for column in table.columns
        if column.name not in migrated[name]
    }
    assert not missing


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


@pytest.fixture
async def empty_database_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, for moving the schema up and down without touching `db`."""
    async with separate_database(database_url, "migrations", tmp_path) as url:
        yield url


async def migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


# The two tables as revision 0001 made them (the models have content_version since 0002).
ACCOUNTS_0001 = table(
    "instagram_accounts",
    *(column(name, String()) for name in ("instagram_user_id", "username")),
    column("access_token_encrypted", LargeBinary()),
    *(column(name, Boolean()) for name in ("is_active", "needs_reauth", "auto_sync")),
    *(column(name, Integer()) for name in ("id", "sync_frequency_minutes", "max_posts_to_sync")),
    *(column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
)
POSTS_0001 = table(
    "instagram_posts",
    *(column(name, Integer()) for name in ("id", "account_id", "display_order")),
    column("sync_retry_count", Integer()),
    *(column(name, String()) for name in ("instagram_id", "media_type", "gallery_category")),
    column("media_status", String()),
    column("is_featured", Boolean()),
    *(column(name, UTCDateTime()) for name in ("posted_at", "created_at", "updated_at")),
    *(
        column(name, JSONType)
        for name in (
            "hashtags",
            "mentions",
            "content_tags",
            "moderation_reason",
            "manual_fields",
            "variants",
        )
    ),
)


async def account_columns(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("instagram_accounts")}
        )


async def test_migration_0002_adds_and_drops_the_content_version(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        engine = database.engine
        await migrate(engine, "0001")
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            await connection.execute(
                ACCOUNTS_0001.insert().values(
                    id=1,
                    instagram_user_id="17840000000001",
                    username="before_0002",
                    access_token_encrypted=b"x",
                    is_active=True,
                    needs_reauth=False,
                    auto_sync=True,
                    sync_frequency_minutes=60,
                    max_posts_to_sync=50,
                    created_at=now,
                    updated_at=now,
                )
            )
            await connection.execute(
                POSTS_0001.insert().values(
                    id=1,
                    account_id=1,
                    display_order=0,
                    sync_retry_count=0,
                    instagram_id="17900000000001",
                    media_type="IMAGE",
                    gallery_category="general",
                    media_status="READY",
                    is_featured=False,
                    posted_at=now,
                    created_at=now,
                    updated_at=now,
                    hashtags=[],
                    mentions=[],
                    content_tags=[],
                    moderation_reason={},
                    manual_fields=[],
                    variants={},
                )
            )
        assert "content_version" not in await account_columns(engine)

        await migrate(engine, "0002")
        assert "content_version" in await account_columns(engine)
        async with database.session() as session:
            version = select(InstagramAccount.content_version).where(InstagramAccount.id == 1)
            assert await session.scalar(version) == 0  # existing rows start at 0
            post = await session.get(InstagramPost, 1)
            assert post is not None
            post.caption = "changed after 0002"
        async with database.session() as session:
            assert await session.scalar(version) == 1

        await migrate(engine, "0003")
        assert "download_videos" in await account_columns(engine)
        async with database.session() as session:
            # An account connected before feeds gets its default feed from the migration.
            feed = await session.scalar(select(Feed))
            assert feed is not None
            assert (feed.slug, feed.account_ids, feed.default_for_account_id) == (
                "before_0002",
                [1],
                1,
            )
            videos = select(InstagramAccount.download_videos).where(InstagramAccount.id == 1)
            assert await session.scalar(videos) is True

        await migrate(engine, "0001", down=True)
        assert "content_version" not in await account_columns(engine)
        assert "download_videos" not in await account_columns(engine)
        assert "avatar_key" not in await account_columns(engine)
        async with engine.connect() as connection:
            # The column was dropped in place: a copied and dropped table would have taken
            # the posts with it (ON DELETE CASCADE).
            posts = select(func.count()).select_from(POSTS_0001)
            assert await connection.scalar(posts) == 1

        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await database.dispose()
