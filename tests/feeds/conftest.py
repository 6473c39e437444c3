"""The synced data and app of tests/api (two accounts, posts in every state), for feeds."""

from tests.api.conftest import app, app_settings, client, data, emulator, keys, media_tmp

__all__ = ["app", "app_settings", "client", "data", "emulator", "keys", "media_tmp"]
