"""Shared fixtures: one migrated database per run (SQLite file or IGS_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.migrate import upgrade
from instagram_service.models import DEFAULT_CATEGORIES, Base, Category
from instagram_service.security import generate_fernet_key
from instagram_service.settings import Settings

# The hundreds of apps the suite starts would each start image processes ahead; the tests that
# are about it turn it on.
os.environ.setdefault("IGS_IMAGE_POOL_AT_START", "false")

TEST_APP_SECRET = "test-app-secret"
TEST_VERIFY_TOKEN = "test-verify-token"
TOKEN_KEY = generate_fernet_key()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("igs")


@pytest.fixture(scope="session")
def database_url(tmp_root: Path) -> str:
    return os.environ.get("IGS_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_root / 'test.db'}"


@asynccontextmanager
async def separate_database(database_url: str, name: str, folder: Path) -> AsyncIterator[str]:
    """An empty database of its own beside the shared one, on the same backend: a SQLite file
    in `folder`, or on PostgreSQL a database created now and dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / (name + '.db')}"
        return
    database = f"{url.database}_{name}_{os.getpid()}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            await connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    return os.environ.get("IGS_TEST_REDIS_URL") or None


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test database, migrated once from an empty schema."""
    database = Database(database_url, pool_size=5)
    if not database.is_sqlite:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test."""
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as test_session:
            yield test_session
        await transaction.rollback()


async def truncate_all(db: Database) -> None:
    """Every table emptied, then the rows migrations seed put back (the default categories)."""
    async with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
        now = datetime.now(UTC)
        await connection.execute(
            Category.__table__.insert(),
            [{"name": name, "created_at": now, "updated_at": now} for name in DEFAULT_CATEGORIES],
        )


@pytest.fixture
async def clean_db(db: Database) -> AsyncIterator[Database]:
    """For tests whose code commits on its own (syncs, tasks): emptied afterwards."""
    await truncate_all(db)
    yield db
    await truncate_all(db)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        token_keys=[TOKEN_KEY],
        app_id="test-app",
        app_secret=TEST_APP_SECRET,
        webhook_verify_token=TEST_VERIFY_TOKEN,
    )


@pytest.fixture
async def api(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app on an in-memory ASGI transport, sharing the test database."""
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def env_clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for key in list(os.environ):
        if key.startswith("IGS_"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.fixture(scope="module")
async def own_db(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database of the module's own, on the suite's backend: for routes that add
    and delete accounts, which would disturb the shared synced data of tests/api."""
    name = request.module.__name__.removeprefix("tests.").replace(".", "_")
    async with separate_database(database_url, name, tmp_path_factory.mktemp(name)) as url:
        database = Database(url)
        await upgrade(database.engine)
        yield database
        await database.dispose()
