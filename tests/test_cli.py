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
    assert "12 posts" in synced.stdout

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


def test_keys_revoke(env: dict[str, str], tmp_path: Path) -> None:
    import sqlite3

    from instagram_service.security import hash_api_key

    assert cli("migrate", env=env).returncode == 0
    created = cli("keys", "create", "--scope", "read", "--name", "to-revoke", env=env)
    assert created.returncode == 0, created.stderr
    plain = created.stdout.strip().splitlines()[-1]
    kept = cli("keys", "create", "--scope", "admin", "--name", "to-keep", env=env)
    assert kept.returncode == 0, kept.stderr

    database = tmp_path / "instagram_service.db"

    def rows() -> dict[str, tuple[int, str, str | None]]:
        with sqlite3.connect(database) as connection:
            found = connection.execute("SELECT id, name, key_hash, revoked_at FROM api_keys")
            return {name: (key_id, key_hash, revoked) for key_id, name, key_hash, revoked in found}

    key_id, key_hash, revoked_at = rows()["to-revoke"]
    assert key_hash == hash_api_key(plain)
    assert revoked_at is None

    revoked = cli("keys", "revoke", str(key_id), env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked key {key_id}"
    after = rows()
    assert after["to-revoke"][2] is not None
    assert after["to-keep"][2] is None  # only that key
    first_revocation = after["to-revoke"][2]
    listed = cli("keys", "list", env=env)
    line = next(row for row in listed.stdout.splitlines() if "to-revoke" in row)
    assert first_revocation[:10] in line  # the revocation date is shown
    assert plain not in listed.stdout

    # Revoking again is harmless and keeps the first date.
    twice = cli("keys", "revoke", str(key_id), env=env)
    assert twice.returncode == 0
    assert rows()["to-revoke"][2] == first_revocation

    missing = cli("keys", "revoke", "999999", env=env)
    assert missing.returncode == 1
    assert "API key 999999 not found" in missing.stderr
    not_a_number = cli("keys", "revoke", "abc", env=env)
    assert not_a_number.returncode == 2


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_emulator_command_serves_the_demo_and_stops_on_a_signal(stop: str, tmp_path: Path) -> None:
    import signal
    import socket
    import time

    import httpx

    from tests.instagram.conftest import DEMO_TOKEN, DEMO_USER

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    log = (tmp_path / "emulator.log").open("w+")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "instagram_service.cli", "emulator",
         "--port", str(port), "--scenario", "demo"],
        env=base_env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        me: httpx.Response | None = None
        while me is None:
            assert process.poll() is None, "the emulator exited early"
            try:
                me = httpx.get(
                    f"{base}/v25.0/me",
                    params={"fields": "user_id,username", "access_token": DEMO_TOKEN},
                    timeout=2,
                )
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert me.status_code == 200
        assert me.json()["user_id"] == DEMO_USER
        assert me.json()["username"] == "maison.lumiere.salon"
        refused = httpx.get(f"{base}/me", params={"access_token": "IGAAnope"}, timeout=2)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == 190

        signum = getattr(signal, stop)
        process.send_signal(signum)
        # uvicorn shuts down gracefully, then re-raises SIGTERM so that supervisors see it.
        assert process.wait(timeout=15) in (0, -signum)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/me", timeout=1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.seek(0)
        output = log.read()
        log.close()
    assert "Traceback" not in output
    assert "Application shutdown complete" in output
    assert "Finished server process" in output
    assert DEMO_TOKEN not in output
