"""The async bodies of CLI commands (app.py keeps only argument parsing and printing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from instagram_service.accounts import service as accounts
from instagram_service.apikeys import service as keys
from instagram_service.container import Container
from instagram_service.db import utcnow
from instagram_service.migrate import upgrade
from instagram_service.models import InstagramAccount, SyncJob, SyncStatus, SyncType
from instagram_service.moderation.rerun import RerunResult, rerun_moderation
from instagram_service.settings import Settings
from instagram_service.sync import service as sync
from instagram_service.sync.engine import Progress as SyncProgress
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.wiring import build_wired

console = Console()  # 80 columns when not a terminal (or COLUMNS): the job table fits


@asynccontextmanager
async def open_container(settings: Settings) -> AsyncIterator[Container]:
    container = build_wired(settings)
    if container.db.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade(container.db.engine)
    try:
        yield container
    finally:
        await container.aclose()


async def add_account(settings: Settings, token: str) -> tuple[InstagramAccount, bool]:
    """(account, whether it is new): a known account gets the token as its new one."""
    async with open_container(settings) as container, container.db.session() as session:
        return await accounts.connect_account(session, container.client, container.cipher, token)


async def list_accounts(settings: Settings) -> list[InstagramAccount]:
    async with open_container(settings) as container, container.db.session() as session:
        return list(await accounts.list_accounts(session))


async def create_key(settings: Settings, name: str, scope: str) -> str:
    async with open_container(settings) as container, container.db.session() as session:
        _key, plain = await keys.create_key(session, name=name, scope=scope)
        return plain


async def list_keys(settings: Settings) -> Table:
    async with open_container(settings) as container, container.db.session() as session:
        table = Table("id", "name", "scope", "prefix", "created", "revoked")
        for key in await keys.list_keys(session):
            revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
            table.add_row(
                str(key.id), key.name, key.scope, key.prefix, f"{key.created_at:%Y-%m-%d}", revoked
            )
        return table


async def revoke_key(settings: Settings, key_id: int) -> None:
    async with open_container(settings) as container, container.db.session() as session:
        await keys.revoke_key(session, key_id)


@dataclass
class SyncRun:
    """What `sync` did: the job it ran (finished, or rescheduled by the rate limit), or why
    it ran none."""

    job: SyncJob | None
    refused: str | None = None

    @property
    def synced(self) -> bool:
        return self.job is not None and self.job.status == SyncStatus.COMPLETED


async def _job_to_run(
    container: Container, account_ref: str, full: bool, sync_type: SyncType, force: bool
) -> tuple[int, str, str | None]:
    """(job id, username, why it must not run here or None): a new job, a pending one, or
    one whose worker stopped beating (taken over, as a worker would)."""
    async with container.db.session() as session:
        account = await accounts.get_account(session, account_ref)
        job, created = await sync.trigger_sync(session, account, sync_type, full=full)
        username = account.username
    if created:
        return job.id, username, None
    now = utcnow()
    name = f"@{username} (job {job.id})"
    if job.status == SyncStatus.RUNNING:
        beat = job.heartbeat_at or job.started_at or now
        silent = (now - beat).total_seconds()
        if silent < container.settings.job_heartbeat_timeout_s:
            return job.id, username, f"a sync of {name} is running (heartbeat {silent:.0f} s ago)"
        console.print(f"the sync of {name} stopped {silent:.0f} s ago: taking it over")
    elif job.scheduled_for and job.scheduled_for > now and not force:
        when = f"{job.scheduled_for:%Y-%m-%d %H:%M:%S} UTC"
        return job.id, username, f"a sync of {name} waits until {when}; --force runs it now"
    return job.id, username, None


async def run_sync_foreground(
    container: Container,
    account_ref: str,
    full: bool,
    *,
    sync_type: SyncType = SyncType.MANUAL,
    force: bool = False,
) -> SyncRun:
    """Run one sync in this process with a progress bar."""
    job_id, username, refused = await _job_to_run(container, account_ref, full, sync_type, force)
    if refused is not None:
        return SyncRun(None, refused)
    columns = (
        TextColumn("[bold]@{task.fields[user]}"),
        BarColumn(bar_width=20),
        TextColumn("{task.completed} posts  {task.fields[images]} images"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        # No total: Instagram's media_count also counts media the API does not list.
        task = bar.add_task("sync", total=None, user=username, images=0)

        def on_change(p: SyncProgress) -> None:
            bar.update(task, completed=p.posts, images=p.images)

        progress = SyncProgress(on_post=on_change, on_page=on_change, on_images=on_change)
        finished = await run_sync_job(SyncContext.of(container, progress), job_id)
        bar.update(task, total=progress.posts, completed=progress.posts)
    if finished is None:
        return SyncRun(None, f"job {job_id} was taken by another worker meanwhile")
    if finished.status == SyncStatus.PENDING:
        return SyncRun(finished, f"not run: {finished.error_message}")
    return SyncRun(finished)


WALKS = {"FULL": "FULL", "INCREMENTAL": "INCR"}


def job_table(jobs: list[SyncJob]) -> Table:
    """Fits 80 columns: short columns of counts, each job's error in full below the table."""
    table = Table(
        "job", "acct", "walk", "status", "posts", "new", "upd", "fail", "gone", "calls",
        "started", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0),
    )  # fmt: skip
    for job in jobs:
        started = f"{job.started_at:%m-%d %H:%M}" if job.started_at else ""
        table.add_row(
            str(job.id), str(job.account_id), WALKS.get(job.walk, job.walk), job.status,
            str(job.posts_processed), str(job.posts_added), str(job.posts_updated),
            str(job.posts_failed), str(job.posts_deleted), str(job.api_calls_made), started,
        )  # fmt: skip
    notes = [
        f"job {job.id}: {job.error_message}"
        + (
            " (rate limited)"
            if job.rate_limit_hit and "rate limit" not in job.error_message
            else ""
        )
        for job in jobs
        if job.error_message
    ]
    if not notes:
        return table
    grid = Table.grid()
    grid.add_row(table)
    for line in notes:
        grid.add_row(Text(line, overflow="fold"))
    return grid


async def sync_account(settings: Settings, account_ref: str, full: bool, force: bool) -> SyncRun:
    async with open_container(settings) as container:
        return await run_sync_foreground(container, account_ref, full, force=force)


async def cancel_job(settings: Settings, job_id: int) -> SyncJob:
    async with open_container(settings) as container, container.db.session() as session:
        return await sync.cancel_job(session, job_id)


async def recent_jobs(settings: Settings, limit: int) -> list[SyncJob]:
    async with open_container(settings) as container, container.db.session() as session:
        jobs = await sync.recent_jobs(session, limit=limit)
        return list(jobs)


async def rerun_moderation_with_bar(settings: Settings) -> RerunResult:
    async with open_container(settings) as container:
        columns = (
            TextColumn("moderation"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("rerun", total=None)

            def on_progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await rerun_moderation(container.db, settings, progress=on_progress)
