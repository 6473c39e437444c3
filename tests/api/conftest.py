"""One real sync (two accounts, images processed) shared by the whole package, and the app.

The synced posts are then put in every state the API must tell apart (pending, rejected,
deleted, image not stored, featured, ordered by hand). Tests that change posts restore them.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.migrate import upgrade
from instagram_service.models import InstagramPost, MediaStatus
from instagram_service.posts.cache import gallery_cache
from instagram_service.settings import Settings
from tests.conftest import separate_database, truncate_all
from tests.emulated import emulated_runtime, emulated_settings

Headers = dict[str, str]


@dataclass
class Data:
    posts: dict[int, InstagramPost]  # every synced post, as left by the fixture
    accounts: dict[str, int]  # username -> id
    pending: int
    rejected: int
    deleted: int
    not_stored: int
    featured: list[int]
    ordered: int  # display_order -5: first of the not-featured ones
    carousel: int  # a public carousel with stored children

    @property
    def hidden(self) -> set[int]:
        return {self.pending, self.rejected, self.deleted, self.not_stored}


@pytest.fixture(scope="package")
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(2, 10, seed=11)) as handle:
        yield handle


@pytest.fixture(scope="package")
def media_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="package")
def app_settings(emulator: EmulatorHandle, db: Database, media_tmp: Path) -> Settings:
    settings: Settings = emulated_settings(emulator, db, media_tmp, embedded_scheduler=False)
    return settings


async def load_posts(db: Database) -> dict[int, InstagramPost]:
    async with db.session() as session:
        rows = await session.scalars(
            select(InstagramPost).options(selectinload(InstagramPost.children))
        )
        return {post.id: post for post in rows}


async def _sync_all(emulator: EmulatorHandle, db: Database, tmp: Path) -> dict[str, int]:
    accounts = {}
    async with emulated_runtime(emulator, db, tmp, media=True) as env:
        for index in range(len(emulator.state.scenario.accounts)):
            account = await env.connect(index)
            job = await env.sync(account.id)
            assert job.status == "COMPLETED", job.error_message
            assert job.posts_failed == 0
            accounts[account.username] = account.id
    return accounts


@pytest.fixture(scope="package")
async def data(emulator: EmulatorHandle, db: Database, media_tmp: Path) -> AsyncIterator[Data]:
    await truncate_all(db)
    accounts = await _sync_all(emulator, db, media_tmp)
    async with db.session() as session:
        posts = list(await session.scalars(select(InstagramPost).order_by(InstagramPost.id)))
        assert all(p.media_status == MediaStatus.READY and p.is_approved for p in posts)
        singles = [p for p in posts if p.media_type != "CAROUSEL_ALBUM"]
        pending, rejected, deleted, not_stored, featured1, featured2, ordered = singles[:7]
        pending.is_approved = None
        pending.is_featured = deleted.is_featured = True  # hidden even from /featured
        rejected.is_approved = False
        deleted.deleted_at = datetime.now(UTC)
        not_stored.media_status = MediaStatus.FAILED
        featured1.is_featured = featured2.is_featured = True
        featured2.display_order = -1  # featured ones are ordered among themselves too
        ordered.display_order = -5
        carousel = next(p for p in posts if p.media_type == "CAROUSEL_ALBUM")
        ids = [p.id for p in (pending, rejected, deleted, not_stored, featured1, featured2)]
        ordered_id, carousel_id = ordered.id, carousel.id
    gallery_cache.invalidate()
    yield Data(
        posts=await load_posts(db),
        accounts=accounts,
        pending=ids[0],
        rejected=ids[1],
        deleted=ids[2],
        not_stored=ids[3],
        featured=ids[4:6],
        ordered=ordered_id,
        carousel=carousel_id,
    )
    await truncate_all(db)
    gallery_cache.invalidate()


@pytest.fixture(scope="package")
async def app(app_settings: Settings, db: Database, data: Data) -> AsyncIterator[FastAPI]:
    application = create_app(app_settings, database=db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="package")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Keys:
    admin: Headers
    read: Headers


@pytest.fixture(scope="package")
async def keys(db: Database, data: Data) -> Keys:
    async with db.session() as session:
        _, admin = await create_key(session, name="tests admin", scope="admin")
        _, read = await create_key(session, name="tests read", scope="read")
    return Keys(admin=bearer(admin), read=bearer(read))


def bearer(key: str) -> Headers:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("instagram-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "instagram_service.cli"]


def public_ids(data: Data) -> set[int]:
    return set(data.posts) - data.hidden


@pytest.fixture(scope="module")
async def own_db(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database of the module's own, on the suite's backend: for routes that add
    and delete accounts, which would disturb the package's shared synced data."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    async with separate_database(database_url, name, tmp_path_factory.mktemp(name)) as url:
        database = Database(url)
        await upgrade(database.engine)
        yield database
        await database.dispose()
