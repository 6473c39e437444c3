from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from instagram_service.db import Database
from instagram_service.settings import Settings
from tests.support.webhooks import AppEnv, running_app, webhook_settings
from tests.support.webhooks import app_env as env  # noqa: F401 (the fixture)


@pytest.fixture
async def fragile(settings: Settings, clean_db: Database) -> AsyncIterator[AppEnv]:
    """The app with one quick retry and subscriptions disabled after two failed deliveries."""
    tight = webhook_settings(
        settings, webhook_retry_delays_s=[0.01], webhook_disable_after_failures=2
    )
    async with running_app(tight, clean_db) as app_env:
        yield app_env
