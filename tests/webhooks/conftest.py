from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from instagram_service.db import Database
from instagram_service.settings import Settings
from tests.webhooks.support import AppEnv, running_app, webhook_settings


@pytest.fixture
async def env(settings: Settings, clean_db: Database) -> AsyncIterator[AppEnv]:
    """The app with its lifespan (runtime, in-process broker), on an ASGI transport."""
    async with running_app(webhook_settings(settings), clean_db) as app_env:
        yield app_env
