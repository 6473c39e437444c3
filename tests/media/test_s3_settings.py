"""IGS_STORAGE=s3 settings, and where the S3 credentials come from (settings, the AWS
environment, ~/.aws/credentials), checked against the loopback S3 server."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from instagram_service.media.s3_storage import S3Storage, s3_config
from instagram_service.media.storage import LocalStorage, media_storage
from instagram_service.settings import Settings, StorageKind, settings_error_message

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


@pytest.fixture
def aws_clean(env_clean: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in AWS_VARIABLES:
        env_clean.delenv(name, raising=False)
    env_clean.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    return env_clean


def test_s3_needs_a_bucket_and_tidies_its_urls(aws_clean: pytest.MonkeyPatch) -> None:
    aws_clean.setenv("IGS_STORAGE", "s3")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "IGS_STORAGE=s3 needs IGS_S3_BUCKET" in settings_error_message(caught.value)
    aws_clean.setenv("IGS_S3_BUCKET", "gallery")
    aws_clean.setenv("IGS_S3_PREFIX", "/media/")
    aws_clean.setenv("IGS_MEDIA_PUBLIC_URL", "https://cdn.example/")
    settings = Settings()
    assert settings.storage is StorageKind.S3
    assert (settings.s3_prefix, settings.media_public_url) == ("media", "https://cdn.example")
    assert isinstance(media_storage(settings), S3Storage)
    assert media_storage(settings) is media_storage(settings)  # one client per process
    assert isinstance(media_storage(Settings(storage="local")), LocalStorage)


def test_credentials_settings_first_then_the_environment_then_the_file(
    aws_clean: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
        "[other]\naws_access_key_id = OTHER\naws_secret_access_key = othersecret\n"
        "aws_session_token = othertoken\n"
    )
    aws_clean.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    base = Settings(storage="s3", s3_bucket="b")
    assert s3_config(base)["access_key_id"] == "FILEKEY"
    aws_clean.setenv("AWS_PROFILE", "other")
    config = s3_config(base)
    assert (config["access_key_id"], config["session_token"]) == ("OTHER", "othertoken")
    aws_clean.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")  # obstore reads the environment itself
    assert "access_key_id" not in s3_config(base)
    own = base.model_copy(
        update={"s3_access_key_id": "MINE", "s3_secret_access_key": SecretStr("mine")}
    )
    assert (s3_config(own)["access_key_id"], s3_config(own)["secret_access_key"]) == (
        "MINE",
        "mine",
    )


async def test_keys_from_the_credentials_file_reach_the_bucket(
    aws_clean: pytest.MonkeyPatch, tmp_path: Path, s3_settings: Settings
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = k\naws_secret_access_key = s\n")
    aws_clean.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    from_file = S3Storage(
        s3_settings.model_copy(update={"s3_access_key_id": None, "s3_secret_access_key": None})
    )
    await from_file.verify()
    assert await from_file.save("original/1_abc.jpg", b"x")
    assert await from_file.read("original/1_abc.jpg") == b"x"
