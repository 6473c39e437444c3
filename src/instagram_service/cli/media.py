"""`instagram-service media ...`: moving the library between stores, the orphan sweep (the
bodies: `media/migrate_storage.py`, `media/orphans.py`; imported when a command runs)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from instagram_service.errors import ServiceError
from instagram_service.settings import Settings, StorageKind, get_settings, settings_error_message

if TYPE_CHECKING:
    from instagram_service.media.migrate_storage import MigrationReport

media_app = typer.Typer(help="Media storage.", no_args_is_help=True, rich_markup_mode=None)


class Target(StrEnum):
    S3 = "s3"


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(settings_error_message(exc), err=True)
        raise typer.Exit(2) from exc


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def check_storage(settings: Settings) -> None:
    """Before `serve` and `worker` start: a missing bucket or refused keys is one line."""
    from instagram_service.media.stores import media_storage

    try:
        asyncio.run(media_storage(settings).verify())
    except ServiceError as exc:
        raise _fail(exc.message) from exc


@media_app.command("migrate-storage")
def migrate_storage_command(
    to: Target = typer.Option(..., "--to", help="Where to: s3 (the IGS_S3_* bucket)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be copied."),
    concurrency: int = typer.Option(8, min=1, max=64, help="Uploads at once."),
    remove_local: bool = typer.Option(
        False, "--remove-local", help="Delete each local file once its copy is verified."
    ),
) -> None:
    """Copy the local media folder into the bucket, verifying every object's hash.
    Safe to rerun after a crash: it goes on where it stopped."""
    settings = _settings()
    if not settings.s3_bucket:
        raise _fail("set IGS_S3_BUCKET (and IGS_S3_ENDPOINT_URL, IGS_S3_REGION) first")
    target_settings = settings.model_copy(update={"storage": StorageKind(to.value)})
    try:
        report = asyncio.run(
            _migrate(settings, target_settings, dry_run, concurrency, remove_local)
        )
    except ServiceError as exc:
        raise _fail(exc.message) from exc
    if report is None:
        return
    typer.echo(
        f"{report.verified} of {report.total} objects verified in the bucket "
        f"({report.uploaded} uploaded, {report.present} were there already"
        + (f", {report.removed_local} local files removed" if remove_local else "")
        + ")"
    )
    if not report.ok:
        for line in report.failed[:20]:
            typer.echo(f"failed: {line}", err=True)
        raise _fail(f"{len(report.failed)} objects failed; rerun to retry them")
    if settings.storage is not StorageKind.S3:
        typer.echo("done: set IGS_STORAGE=s3 and restart the API and workers")


async def _migrate(
    settings: Settings, target_settings: Settings, dry_run: bool, concurrency: int, remove: bool
) -> MigrationReport | None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from instagram_service.media.migrate_storage import migrate_storage, plan, present_in
    from instagram_service.media.storage import local_storage
    from instagram_service.media.stores import media_storage

    source = local_storage(settings)
    target = media_storage(target_settings)
    await target.verify()  # a missing bucket or refused keys: one clear error, nothing done
    objects = await plan(source)
    size = sum(obj.size for obj in objects)
    if dry_run:
        present = await present_in(target, objects, concurrency)
        typer.echo(
            f"would copy {len(objects) - present} of {len(objects)} objects "
            f"({size / 1e6:.1f} MB in all) from {source.root} to the bucket "
            f"{target_settings.s3_bucket!r}; {present} are there already and would be "
            "verified; nothing was written"
        )
        return None
    columns = (
        TextColumn("migrating"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("migrate", total=size)
        return await migrate_storage(
            source,
            target,
            objects,
            concurrency=concurrency,
            remove_local=remove,
            advance=lambda obj: progress.advance(task, obj.size),
        )


@media_app.command("sweep-orphans")
def sweep_orphans_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="List them, delete nothing."),
    grace_hours: float = typer.Option(6.0, min=0, help="Keep orphans younger than this."),
) -> None:
    """Delete stored objects that no post names (older than the grace period)."""
    settings = _settings()

    async def body() -> None:
        from instagram_service.db import Database
        from instagram_service.media.orphans import sweep_orphans
        from instagram_service.media.stores import media_storage

        db = Database(settings.database_url, pool_size=2)
        try:
            report = await sweep_orphans(
                db,
                media_storage(settings),
                grace=timedelta(hours=grace_hours),
                dry_run=dry_run,
            )
        finally:
            await db.dispose()
        for key in report.orphans[:50] if dry_run else []:
            typer.echo(f"orphan: {key}")
        verb = "would remove" if dry_run else "removed"
        count = len(report.orphans) if dry_run else report.removed
        typer.echo(
            f"{report.objects} objects, {len(report.orphans)} orphans: {verb} {count}; "
            f"{report.young} younger orphans kept"
        )

    try:
        asyncio.run(body())
    except ServiceError as exc:
        raise _fail(exc.message) from exc
