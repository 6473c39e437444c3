from __future__ import annotations

import pytest
from pydantic import ValidationError

from instagram_service.settings import Settings, settings_error_message


def test_defaults_are_embedded(env_clean: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("data/instagram_service.db")
    assert str(settings.media_root) == "data/media"
    assert settings.broker == "inprocess"
    assert settings.graph_api_version == "v25.0"
    assert settings.page_size == 100
    assert settings.app_secret is None  # secrets have no default
    assert settings.download_allowed_hosts == ["*.cdninstagram.com", "*.fbcdn.net"]


def test_comma_lists_from_env(env_clean: pytest.MonkeyPatch) -> None:
    env_clean.setenv("IGS_CORS_ORIGINS", "https://a.example, https://b.example")
    env_clean.setenv("IGS_DOWNLOAD_ALLOWED_HOSTS", "*.cdninstagram.com,127.0.0.1:8900")
    settings = Settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.download_allowed_hosts == ["*.cdninstagram.com", "127.0.0.1:8900"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IGS_PAGE_SIZE", "500"),
        ("IGS_BROKER", "kafka"),
        ("IGS_DATABASE_URL", "postgresql://sync-driver/db"),
        ("IGS_WEBP_QUALITY", "abc"),
    ],
)
def test_invalid_value_names_the_variable(
    env_clean: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    env_clean.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    message = settings_error_message(info.value)
    assert variable in message


def test_redis_broker_needs_redis_url(env_clean: pytest.MonkeyPatch) -> None:
    env_clean.setenv("IGS_BROKER", "redis")
    with pytest.raises(ValidationError, match="IGS_REDIS_URL"):
        Settings()
