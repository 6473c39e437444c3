"""The `instagram-service` command."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from instagram_service import __version__
from instagram_service.settings import Settings, get_settings, settings_error_message

app = typer.Typer(
    help="Keeps a business's Instagram content on its own website.", no_args_is_help=True
)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(settings_error_message(exc), err=True)
        raise typer.Exit(2) from exc


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Apply the database migrations."""
    from instagram_service.migrate import upgrade_blocking

    settings = load_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_blocking(settings.database_url)
    typer.echo("database is at the newest migration")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from instagram_service.app import create_app

    uvicorn.run(create_app(load_settings()), host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
