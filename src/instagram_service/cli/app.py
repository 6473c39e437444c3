"""The `instagram-service` command: argument parsing and printing.

Command bodies are imported inside each command, on purpose: `--help` and `version` then
start without loading FastAPI, SQLAlchemy and the domains (about a second on this machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import ValidationError

from instagram_service import __version__
from instagram_service.cli.media import check_storage, media_app
from instagram_service.dependencies_check import DOWN_ERRORS, one_line
from instagram_service.errors import ServiceError
from instagram_service.observability import configure_logging
from instagram_service.settings import Settings, get_settings, settings_error_message


def group(text: str) -> typer.Typer:
    # Click's plain help: typer's rich one labels every flag `<bool>`, even `--help`.
    return typer.Typer(help=text, rich_markup_mode=None, no_args_is_help=True)


app = group("Keeps a business's Instagram content on its own website.")
accounts_app = group("Connected Instagram accounts.")
keys_app = group("API keys.")
moderation_app = group("Moderation rules.")
jobs_app = typer.Typer(help="Sync jobs: list them, cancel one.", rich_markup_mode=None)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(moderation_app, name="moderation")
app.add_typer(jobs_app, name="jobs")
app.add_typer(media_app, name="media")


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(settings_error_message(exc), err=True)
        raise typer.Exit(2) from exc


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command body; service errors become a clear message and exit code 1."""
    # Warnings and errors only, on stderr: a command prints its own outcome, and the error
    # below says what the client's warning would say a second time.
    configure_logging("WARNING")
    logging.getLogger("instagram_service.instagram").setLevel(logging.ERROR)
    try:
        return asyncio.run(coro)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Apply the database migrations."""
    from instagram_service.migrate import upgrade_blocking

    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade_blocking(settings.database_url)
    except DOWN_ERRORS as exc:  # one clear line; the traceback only with IGS_LOG_LEVEL=DEBUG
        if settings.log_level == "DEBUG":
            raise
        typer.echo(f"error: cannot migrate, database unreachable: {one_line(exc)}", err=True)
        raise typer.Exit(1) from None
    typer.echo("database is at the newest migration")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    server: str = typer.Option("granian", help="HTTP server: granian or uvicorn."),
) -> None:
    """Serve the HTTP API."""
    from instagram_service.server import ServerKind, serve_app

    if server not in ServerKind.__members__.values():
        typer.echo(f"error: unknown server {server!r}: use granian or uvicorn", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    check_storage(settings)
    serve_app(settings, host=host, port=port, server=ServerKind(server))


@app.command()
def worker(
    processes: int = typer.Option(2, help="Worker processes."),
) -> None:
    """Run task workers (IGS_BROKER=redis)."""
    settings = load_settings()
    if settings.broker != "redis":
        typer.echo("error: workers need IGS_BROKER=redis (in-process tasks run in serve)", err=True)
        raise typer.Exit(2)
    check_storage(settings)
    from taskiq.cli.common_args import LogLevel
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker

    from instagram_service.worker.broker import TASK_MODULES

    configure_logging(settings.log_level)
    args = WorkerArgs(
        broker="instagram_service.cli.worker_process:broker",
        modules=TASK_MODULES,
        workers=processes,
        configure_logging=False,  # ours: one line per error below DEBUG
        log_level=LogLevel.DEBUG if settings.log_level == "DEBUG" else LogLevel.WARNING,
    )
    sys.exit(run_worker(args) or 0)


@app.command()
def scheduler() -> None:
    """Run the scheduler (IGS_BROKER=redis): auto syncs, retries, token refresh."""
    settings = load_settings()
    if settings.broker != "redis":
        typer.echo("error: a separate scheduler needs IGS_BROKER=redis", err=True)
        raise typer.Exit(2)
    from instagram_service.worker.scheduler import run_scheduler_process

    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_scheduler_process(settings))


@app.command()
def emulator(
    port: int = typer.Option(8900, help="Port to listen on."),
    scenario: str = typer.Option("demo", help="demo, generated:N, or a JSON file."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
) -> None:
    """Run the local Instagram Platform emulator."""
    from instagram_service.emulator.server import run_emulator

    run_emulator(port=port, scenario=scenario, host=host)


@accounts_app.command("add")
def accounts_add(token: str = typer.Option(..., help="A long-lived Instagram token.")) -> None:
    """Connect an account with a long-lived token."""
    from instagram_service.cli.commands import add_account

    account, created = run(add_account(load_settings(), token))
    if created:
        typer.echo(f"connected @{account.username} (id {account.id})")
    else:
        typer.echo(f"@{account.username} (id {account.id}) was already connected: token updated")


@accounts_app.command("list")
def accounts_list() -> None:
    """List connected accounts."""
    from rich.table import Table

    from instagram_service.cli.commands import console, list_accounts

    table = Table("id", "username", "user id", "active", "needs reauth", "last sync")
    for a in run(list_accounts(load_settings())):
        last = f"{a.last_sync_at:%Y-%m-%d %H:%M}" if a.last_sync_at else "never"
        table.add_row(
            str(a.id), a.username, a.instagram_user_id, str(a.is_active),
            str(a.needs_reauth), last,
        )  # fmt: skip
    console.print(table)


@app.command()
def sync(
    account: str = typer.Argument(..., help="Username or id."),
    full: bool = typer.Option(False, "--full", help="Walk every page (FULL)."),
    force: bool = typer.Option(False, "--force", help="Run a job waiting for later now."),
) -> None:
    """Sync an account now, in the foreground, with a progress bar. Exits 1 when no sync
    completed, saying why."""
    from instagram_service.cli.commands import console, job_table, sync_account

    result = run(sync_account(load_settings(), account, full, force))
    if result.job is not None:
        console.print(job_table([result.job]))
    if result.refused is not None:
        typer.echo(f"no sync ran: {result.refused}", err=True)
    if not result.synced:
        raise typer.Exit(1)


@jobs_app.callback(invoke_without_command=True)
def jobs(ctx: typer.Context, limit: int = typer.Option(20, help="How many.")) -> None:
    """List recent sync jobs."""
    if ctx.invoked_subcommand is not None:
        return
    from instagram_service.cli.commands import console, job_table, recent_jobs

    console.print(job_table(run(recent_jobs(load_settings(), limit))))


@jobs_app.command("cancel")
def jobs_cancel(job_id: int = typer.Argument(..., help="The job's id.")) -> None:
    """Cancel a pending or running job (a running one stops at its next heartbeat)."""
    from instagram_service.cli.commands import cancel_job

    job = run(cancel_job(load_settings(), job_id))
    typer.echo(f"cancelled job {job.id}")


@keys_app.command("create")
def keys_create(
    scope: str = typer.Option(..., help="admin or read."),
    name: str = typer.Option(..., help="What the key is for."),
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from instagram_service.cli.commands import create_key

    plain = run(create_key(load_settings(), name, scope))
    typer.echo(f"created a {scope} key '{name}'; store it now, it is not shown again:")
    typer.echo(plain)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (not the keys themselves)."""
    from instagram_service.cli.commands import console, list_keys

    console.print(run(list_keys(load_settings())))


@keys_app.command("revoke")
def keys_revoke(key_id: int = typer.Argument(..., help="The key's id.")) -> None:
    """Revoke an API key."""
    from instagram_service.cli.commands import revoke_key

    run(revoke_key(load_settings(), key_id))
    typer.echo(f"revoked key {key_id}")


@moderation_app.command("rerun")
def moderation_rerun() -> None:
    """Apply the moderation rules again to every post (admin decisions are kept)."""
    from instagram_service.cli.commands import rerun_moderation_with_bar

    result = run(rerun_moderation_with_bar(load_settings()))
    typer.echo(f"{result.processed} posts checked, {result.changed} changed")


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port of the API."),
    data_dir: Path = typer.Option(Path("./data/demo"), help="Where the demo keeps its data."),
) -> None:
    """Run everything embedded: emulator, accounts, a full sync, the API."""
    from instagram_service.cli.demo import run_demo

    os.environ.setdefault("IGS_DATA_DIR", str(data_dir))
    configure_logging("WARNING")  # the demo prints its own progress and summary
    run_demo(port=port, data_dir=data_dir)


if __name__ == "__main__":
    app()
