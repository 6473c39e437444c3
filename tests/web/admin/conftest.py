"""The console served over real HTTP on loopback, with two synced accounts and three keys.

The package has a database of its own (the tests commit, as a browser's requests do), the
emulator on another loopback port (its authorize page is where Connect goes), and the app's
OAuth redirect pointing back at the live server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Page

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.migrate import upgrade
from instagram_service.posts.cache import gallery_cache
from instagram_service.settings import Settings
from tests.conftest import separate_database
from tests.support.emulated import emulated_env, emulated_settings
from tests.web.browser import free_port, serve

SESSION_SECRET = "test-admin-session-secret-0123456789"


@dataclass
class Site:
    base: str
    app: FastAPI
    db: Database
    settings: Settings
    emulator: EmulatorHandle
    accounts: dict[str, int]  # username -> id of the two synced accounts


@dataclass
class Keys:
    admin: str
    read: str
    scoped: str  # admin scope, first account only
    scoped_account: int


@pytest.fixture(scope="package")
def emulator() -> Iterator[EmulatorHandle]:
    # The first account (the one the emulator's authorize page logs in by default) is left
    # unconnected: the Connect test adds it.
    with running_emulator(generate_scenario(3, 8, seed=14)) as handle:
        yield handle


@pytest.fixture(scope="package")
async def admin_db(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    folder = tmp_path_factory.mktemp("admin_db")
    async with separate_database(database_url, "web_admin", folder) as url:
        database = Database(url)
        await upgrade(database.engine)
        yield database
        await database.dispose()


@pytest.fixture(scope="package")
async def synced(
    emulator: EmulatorHandle, admin_db: Database, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, int]]:
    media = tmp_path_factory.mktemp("admin_media")
    accounts: dict[str, int] = {}
    async with emulated_env(admin_db, media, emulator=emulator, media=True) as env:
        for index in (1, 2):
            account = await env.connect(index)
            job = await env.sync(account.id)
            assert job.status == "COMPLETED", job.error_message
            accounts[account.username] = account.id
    return media, accounts


@pytest.fixture(scope="package")
async def site(
    emulator: EmulatorHandle, admin_db: Database, synced: tuple[Path, dict[str, int]]
) -> AsyncIterator[Site]:
    media, accounts = synced
    port = free_port()
    settings = emulated_settings(
        emulator, admin_db, media, embedded_scheduler=False, admin_session_secret=SESSION_SECRET,
        oauth_redirect_uri=f"http://127.0.0.1:{port}/api/v1/accounts/callback",
        gallery_cache_seconds=0, webhook_allow_private_targets=True,
    )  # fmt: skip
    app = create_app(settings, database=admin_db)
    gallery_cache.invalidate()
    async with app.router.lifespan_context(app), serve(app, port=port) as base:
        yield Site(base, app, admin_db, settings, emulator, accounts)


@pytest.fixture(scope="package")
async def keys(site: Site) -> Keys:
    first = min(site.accounts.values())
    async with site.db.session() as session:
        _, admin = await create_key(session, name="console admin", scope="admin")
        _, read = await create_key(session, name="console reader", scope="read")
        _, scoped = await create_key(session, name="client one", scope="admin", account_ids=[first])
    return Keys(admin=admin, read=read, scoped=scoped, scoped_account=first)


async def login(page: Page, site: Site, key: str, next_path: str = "") -> None:
    """Log in through the form, as a person would (keyboard only)."""
    await page.goto(f"{site.base}/admin/login" + (f"?next={next_path}" if next_path else ""))
    await page.get_by_label("API key").fill(key)
    async with page.expect_navigation():
        await page.get_by_label("API key").press("Enter")
