"""The CLI as a person meets it at 80 columns: help, messages said once, a sync that says what
it did (and exits 1 when it did not sync), taking over a crashed sync, cancelling a job."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from instagram_service.db import Database, utcnow
from instagram_service.emulator.server import EmulatorHandle
from instagram_service.models import SyncJob, SyncStatus
from tests.test_cli import cli
from tests.test_cli import emulator as emulator  # noqa: F401  (the module's fixture)
from tests.test_cli import env as base_env  # noqa: F401

WIDTH = 80


@pytest.fixture
def env(base_env: dict[str, str]) -> dict[str, str]:  # noqa: F811
    return {**base_env, "COLUMNS": str(WIDTH)}


def lines_fit(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_wide, "\n".join(too_wide)


@pytest.mark.parametrize(
    "command",
    [
        (),
        ("sync",),
        ("accounts", "add"),
        ("jobs",),
        ("jobs", "cancel"),
        ("keys", "create"),
        ("serve",),
        ("demo",),
        ("media", "sweep-orphans"),
    ],  # fmt: skip
    ids=lambda c: " ".join(c) or "top",
)
def test_help_names_no_bool_type_and_fits(env: dict[str, str], command: tuple[str, ...]) -> None:
    shown = cli(*command, "--help", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "<bool>" not in shown.stdout
    lines_fit(shown.stdout)
    if command == ("sync",):
        assert "--full" in shown.stdout
        assert "--force" in shown.stdout


def test_fernet_hint_prints_a_key_not_a_bytes_literal(env: dict[str, str]) -> None:
    refused = cli("accounts", "add", "--token", "IGAAx", env={**env, "IGS_TOKEN_KEYS": ""})
    assert refused.returncode == 1
    snippet = refused.stderr.split("python -c '", 1)[1].split("'", 1)[0]
    printed = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert not printed.startswith("b'")
    assert len(printed) == 44


def test_accounts_add_twice_and_a_refusal_said_once(
    env: dict[str, str], emulator: EmulatorHandle
) -> None:
    token = emulator.state.scenario.accounts[0].tokens[0].token
    username = emulator.state.scenario.accounts[0].username
    first = cli("accounts", "add", "--token", token, env=env)
    assert f"connected @{username}" in first.stdout
    again = cli("accounts", "add", "--token", token, env=env)
    assert again.returncode == 0
    assert "already connected: token updated" in again.stdout
    assert "connected @" not in again.stdout
    refused = cli("accounts", "add", "--token", "IGAAwrong", env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("Instagram refused the token") == 1, refused.stderr
    assert refused.stdout == ""


async def set_job(database: Path, **values: object) -> int:
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.session() as session:
            job = (await session.scalars(select(SyncJob).order_by(SyncJob.id.desc()))).first()
            assert job is not None
            for name, value in values.items():
                setattr(job, name, value)
            return job.id
    finally:
        await db.dispose()


async def job_row(database: Path, job_id: int) -> SyncJob:
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.session() as session:
            job = await session.get(SyncJob, job_id)
            assert job is not None
            return job
    finally:
        await db.dispose()


def test_sync_takes_over_a_crashed_job_and_exits_1_when_it_did_not_sync(
    env: dict[str, str], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    database = tmp_path / "instagram_service.db"
    token = emulator.state.scenario.accounts[0].tokens[0].token
    username = emulator.state.scenario.accounts[0].username
    assert cli("accounts", "add", "--token", token, env=env).returncode == 0
    first = cli("sync", username, env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    lines_fit(first.stdout)
    assert "COMPLETED" in first.stdout

    # A CLI sync killed with -9: its job stays RUNNING, its heartbeat an hour old.
    old = utcnow() - timedelta(hours=1)
    job_id = asyncio.run(
        set_job(database, status=SyncStatus.RUNNING, started_at=old, heartbeat_at=old,
                completed_at=None)
    )  # fmt: skip
    taken = cli("sync", username, env=env, timeout=300)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert f"job {job_id}" in taken.stdout
    assert "taking it over" in taken.stdout
    assert asyncio.run(job_row(database, job_id)).status == SyncStatus.COMPLETED

    # A job that is alive (fresh heartbeat): not run, said so, exit 1.
    now = utcnow()
    asyncio.run(
        set_job(database, status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now,
                completed_at=None)
    )  # fmt: skip
    busy = cli("sync", username, env=env)
    assert busy.returncode == 1
    assert "no sync ran: a sync of @" in busy.stderr
    assert "is running" in busy.stderr

    # A job waiting for later (a rate-limit follow-up): refused, unless forced.
    job_id = asyncio.run(
        set_job(database, status=SyncStatus.PENDING, started_at=None, heartbeat_at=None,
                scheduled_for=utcnow() + timedelta(hours=1))
    )  # fmt: skip
    waiting = cli("sync", username, env=env)
    assert waiting.returncode == 1
    assert "--force runs it now" in waiting.stderr
    forced = cli("sync", username, "--force", env=env, timeout=300)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert asyncio.run(job_row(database, job_id)).status == SyncStatus.COMPLETED


def test_jobs_cancel(env: dict[str, str], emulator: EmulatorHandle, tmp_path: Path) -> None:
    database = tmp_path / "instagram_service.db"
    token = emulator.state.scenario.accounts[0].tokens[0].token
    username = emulator.state.scenario.accounts[0].username
    assert cli("accounts", "add", "--token", token, env=env).returncode == 0
    assert cli("sync", username, env=env, timeout=300).returncode == 0
    job_id = asyncio.run(
        set_job(database, status=SyncStatus.PENDING, completed_at=None,
                scheduled_for=utcnow() + timedelta(hours=1))
    )  # fmt: skip
    cancelled = cli("jobs", "cancel", str(job_id), env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"cancelled job {job_id}"
    row = asyncio.run(job_row(database, job_id))
    assert (row.status, row.error_message) == (SyncStatus.FAILED, "cancelled by an admin")
    twice = cli("jobs", "cancel", str(job_id), env=env)
    assert twice.returncode == 1
    assert "already failed" in twice.stderr
    listed = cli("jobs", env=env)
    assert listed.returncode == 0
    lines_fit(listed.stdout)
    assert f"job {job_id}: cancelled by an admin" in listed.stdout
