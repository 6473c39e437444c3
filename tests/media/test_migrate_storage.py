"""`instagram-service media migrate-storage --to s3`, as a real process: killed in the middle,
then run again; every object verified by hash against the local file."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from instagram_service.media.storage import content_key, media_storage
from instagram_service.settings import Settings

CLI = [sys.executable, "-m", "instagram_service.cli"]
FILES = 400


def cli_env(settings: Settings, **more: str) -> dict[str, str]:
    assert settings.s3_bucket
    assert settings.s3_endpoint_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    return (
        env
        | {
            "IGS_DATA_DIR": str(settings.data_dir),
            "IGS_DATABASE_URL": settings.database_url,
            "IGS_S3_BUCKET": settings.s3_bucket,
            "IGS_S3_ENDPOINT_URL": settings.s3_endpoint_url,
            "IGS_S3_REGION": "us-east-1",
            "IGS_S3_PREFIX": settings.s3_prefix,
            "IGS_S3_ACCESS_KEY_ID": "testing",
            "IGS_S3_SECRET_ACCESS_KEY": "testing",
            "COLUMNS": "120",
        }
        | more
    )


def make_library(root: Path) -> dict[str, bytes]:
    """Content-addressed files as the pipeline names them (random bytes: sizes vary)."""
    rng = random.Random(17)
    files: dict[str, bytes] = {}
    for n in range(FILES):
        data = rng.randbytes(rng.randrange(20_000, 60_000))
        folder = ("original", "thumbnails", "optimized", "large")[n % 4]
        key = content_key(folder, f"1790000{n:05d}", data, "webp")
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
        files[key] = data
    return files


def objects_in_bucket(settings: Settings) -> int:
    listing = httpx.get(
        f"{settings.s3_endpoint_url}/{settings.s3_bucket}",
        params={"list-type": "2", "prefix": f"{settings.s3_prefix}/"},
        timeout=10,
    )
    return len(re.findall(r"<Key>", listing.text))


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "media", *args], env=cli_env(settings), capture_output=True, text=True, timeout=300
    )


async def test_a_crash_in_the_middle_and_a_rerun_that_completes(s3_settings: Settings) -> None:
    files = make_library(s3_settings.media_root)
    command = [*CLI, "media", "migrate-storage", "--to", "s3", "--concurrency", "1"]
    process = subprocess.Popen(
        command, env=cli_env(s3_settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while objects_in_bucket(s3_settings) < 20:
        assert process.poll() is None, "finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    copied = objects_in_bucket(s3_settings)
    assert 20 <= copied < FILES, "the crash must come in the middle"

    dry = run_cli(s3_settings, "migrate-storage", "--to", "s3", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would copy {FILES - copied} of {FILES} objects" in dry.stdout
    assert f"{copied} are there already" in dry.stdout
    assert objects_in_bucket(s3_settings) == copied  # a dry run writes nothing

    rerun = run_cli(s3_settings, "migrate-storage", "--to", "s3")
    assert rerun.returncode == 0, rerun.stderr
    assert (
        f"{FILES} of {FILES} objects verified in the bucket "
        f"({FILES - copied} uploaded, {copied} were there already)"
    ) in rerun.stdout
    assert "migrating" in rerun.stderr  # the progress bar
    storage = media_storage(s3_settings)
    for key, data in files.items():
        assert hashlib.sha256(await storage.read(key)).digest() == hashlib.sha256(data).digest()
    assert (s3_settings.media_root / next(iter(files))).is_file()  # copied, not moved

    # A local file that does not match its name is reported, never uploaded.
    bad = content_key("original", "17999999999", b"the real bytes", "jpg")
    (s3_settings.media_root / bad).write_bytes(b"bit rot")
    broken = run_cli(s3_settings, "migrate-storage", "--to", "s3", "--remove-local")
    assert broken.returncode == 1
    assert f"failed: {bad}: local file does not match its name's hash" in broken.stderr
    assert not await storage.exists(bad)
    assert "400 local files removed" in broken.stdout
    assert [p.name for p in s3_settings.media_root.rglob("*") if p.is_file()] == [
        bad.rsplit("/", 1)[-1]
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["media", "migrate-storage", "--to", "s3"],
        ["media", "sweep-orphans"],
        ["serve", "--port", "1"],  # fails before it binds
        ["worker"],
    ],
)
def test_a_missing_bucket_is_one_line(s3_settings: Settings, command: list[str]) -> None:
    gone = s3_settings.model_copy(update={"s3_bucket": "no-such-bucket"})
    result = subprocess.run(
        [*CLI, *command],
        env=cli_env(
            gone, IGS_STORAGE="s3", IGS_BROKER="redis", IGS_REDIS_URL="redis://127.0.0.1:1"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: S3 bucket 'no-such-bucket' at {gone.s3_endpoint_url} does not exist "
        "(IGS_S3_BUCKET, IGS_S3_ENDPOINT_URL)"
    ]
