"""The async bodies of CLI commands (app.py keeps only argument parsing and printing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from instagram_service.accounts import service as accounts
from instagram_service.apikeys import service as keys
from instagram_service.container import Container
from instagram_service.migrate import upgrade
from instagram_service.models import InstagramAccount, SyncJob, SyncType
from instagram_service.moderation.rerun import RerunResult, rerun_moderation
from instagram_service.settings import Settings
from instagram_service.sync import service as sync
from instagram_service.sync.engine import Progress as SyncProgress
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.wiring import build_wired

console = Console()
if not console.is_terminal:  # logs and CI: wide enough for the job table
    console = Console(width=160)


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


async def add_account(settings: Settings, token: str) -> InstagramAccount:
    async with open_container(settings) as container, container.db.session() as session:
        account, _ = await accounts.connect_account(
            session, container.client, container.cipher, token
        )
        return account


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


async def run_sync_foreground(
    container: Container, account_ref: str, full: bool, *, sync_type: SyncType = SyncType.MANUAL
) -> SyncJob | None:
    """Run one sync in this process with a progress bar; returns the finished job."""
    async with container.db.session() as session:
        account = await accounts.get_account(session, account_ref)
        job, created = await sync.trigger_sync(session, account, sync_type, full=full)
        job_id, username, expected = job.id, account.username, account.media_count
    if not created:
        console.print(f"a sync of @{username} is already {job.status.lower()} (job {job_id})")
        return None
    columns = (
        TextColumn("[bold]@{task.fields[user]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} posts"),
        TextColumn("pages {task.fields[pages]}  images {task.fields[images]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("sync", total=expected or None, user=username, pages=0, images=0)

        def on_change(p: SyncProgress) -> None:
            bar.update(task, completed=p.posts, pages=p.pages, images=p.images)

        progress = SyncProgress(on_post=on_change, on_page=on_change)
        finished = await run_sync_job(SyncContext.of(container, progress), job_id)
        bar.update(task, total=progress.posts or 1, completed=progress.posts)
    return finished


def job_table(jobs: list[SyncJob]) -> Table:
    table = Table(
        "job", "account", "type", "status", "processed", "added", "updated", "failed",
        "deleted", "api calls", "rate limited", "started", "error",
    )  # fmt: skip
    for job in jobs:
        started = f"{job.started_at:%Y-%m-%d %H:%M:%S}" if job.started_at else ""
        table.add_row(
            str(job.id), str(job.account_id), f"{job.sync_type}/{job.walk}", job.status,
            str(job.posts_processed), str(job.posts_added), str(job.posts_updated),
            str(job.posts_failed), str(job.posts_deleted), str(job.api_calls_made),
            "yes" if job.rate_limit_hit else "", started, (job.error_message or "")[:80],
        )  # fmt: skip
    return table


async def sync_account(settings: Settings, account_ref: str, full: bool) -> SyncJob | None:
    async with open_container(settings) as container:
        return await run_sync_foreground(container, account_ref, full)


async def recent_jobs(settings: Settings, limit: int) -> list[SyncJob]:
    async with open_container(settings) as container, container.db.session() as session:
        jobs, _ = await sync.list_jobs(session, limit=limit)
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
