"""The `instagram-service` command, run as a real subprocess against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from instagram_service import __version__
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from tests.conftest import TOKEN_KEY


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 12, seed=31)) as handle:
        yield handle


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instagram_service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(emulator: EmulatorHandle, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    return {
        **base,
        "IGS_DATA_DIR": str(tmp_path),
        "IGS_GRAPH_BASE_URL": emulator.base_url,
        "IGS_TOKEN_KEYS": TOKEN_KEY,
        "IGS_DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
        "IGS_DOWNLOAD_ALLOW_HTTP": "true",
        "IGS_IMAGE_WORKERS": "1",
        "COLUMNS": "200",
    }


def test_version(env: dict[str, str]) -> None:
    result = cli("version", env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_invalid_setting_names_the_variable(env: dict[str, str]) -> None:
    result = cli("migrate", env={**env, "IGS_PAGE_SIZE": "500"})
    assert result.returncode == 2
    assert "IGS_PAGE_SIZE" in result.stderr


def test_account_sync_jobs_keys_and_rerun(env: dict[str, str], emulator: EmulatorHandle) -> None:
    assert cli("migrate", env=env).returncode == 0
    token = emulator.state.scenario.accounts[0].tokens[0].token
    username = emulator.state.scenario.accounts[0].username

    added = cli("accounts", "add", "--token", token, env=env)
    assert added.returncode == 0, added.stderr
    assert f"connected @{username}" in added.stdout
    assert token not in added.stdout + added.stderr

    refused = cli("accounts", "add", "--token", "IGAAwrong", env=env)
    assert refused.returncode == 1
    assert "Instagram refused the token" in refused.stderr

    listed = cli("accounts", "list", env=env)
    assert username in listed.stdout

    synced = cli("sync", username, "--full", env=env, timeout=300)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "COMPLETED" in synced.stdout
    assert "12/12 posts" in synced.stdout

    unknown = cli("sync", "nobody-here", env=env)
    assert unknown.returncode == 1
    assert "not found" in unknown.stderr

    jobs = cli("jobs", env=env)
    assert "FULL" in jobs.stdout

    created = cli("keys", "create", "--scope", "admin", "--name", "ci", env=env)
    assert created.returncode == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("igs_")
    assert len(key) > 30
    assert "ci" in cli("keys", "list", env=env).stdout
    bad_scope = cli("keys", "create", "--scope", "root", "--name", "x", env=env)
    assert bad_scope.returncode == 1
    assert "unknown scope" in bad_scope.stderr

    rerun = cli("moderation", "rerun", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "12 posts checked" in rerun.stdout
