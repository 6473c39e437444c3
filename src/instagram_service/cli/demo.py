"""`instagram-service demo`: the emulator, two accounts, a sync, and the API, embedded.

The demo keeps its own secrets (token key, app secret, admin key) in its data folder, so a
second run reuses the data and syncs incrementally.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.accounts.service import connect_account
from instagram_service.apikeys.service import create_key
from instagram_service.cli.commands import job_table, open_container, run_sync_foreground
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.errors import NotFound
from instagram_service.models import SyncType
from instagram_service.security import generate_fernet_key
from instagram_service.server import serve_app
from instagram_service.settings import Settings

console = Console()
MERGED_FEED = "all-studios"


def demo_secrets(data_dir: Path) -> dict[str, str]:
    """Generated once and kept: the demo's only place with secrets on disk in clear."""
    path = data_dir / "demo-secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted: dict[str, Callable[[], str]] = {
        "token_key": generate_fernet_key,
        "verify_token": lambda: secrets.token_urlsafe(16),
        "admin_session_secret": lambda: secrets.token_urlsafe(32),  # added later: filled in
    }
    missing = {name: make() for name, make in wanted.items() if name not in values}
    if not missing:
        return values
    values.update(missing)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def demo_settings(emulator: EmulatorHandle, data_dir: Path, port: int) -> Settings:
    kept = demo_secrets(data_dir)
    overrides: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": "",
        "media_dir": None,
        "token_keys": [kept["token_key"]],
        "webhook_verify_token": kept["verify_token"],
        "admin_session_secret": kept["admin_session_secret"],
        "oauth_redirect_uri": f"http://127.0.0.1:{port}/api/v1/accounts/callback",
        "broker": "inprocess",
        "redis_url": None,
    }
    return emulator.settings(**overrides)


async def prepare(settings: Settings, tokens: list[str]) -> str:
    """Connect the accounts, sync them with a progress bar, and return an admin key."""
    async with open_container(settings) as container:
        first_run = False
        usernames = []
        async with container.db.session() as session:
            for token in tokens:
                account, created = await connect_account(
                    session, container.client, container.cipher, token
                )
                first_run |= created
                usernames.append(account.username)
                console.print(f"connected @{account.username}" + (" (new)" if created else ""))
        walk = "a full" if first_run else "an incremental"
        console.print(f"running {walk} sync of each account")
        jobs = []
        for username in usernames:
            result = await run_sync_foreground(
                container,
                username,
                full=first_run,
                sync_type=SyncType.FULL if first_run else SyncType.INCREMENTAL,
            )
            if result.job is not None:
                jobs.append(result.job)
            if result.refused is not None:
                console.print(f"@{username}: {result.refused}")
        console.print(job_table(jobs))
        async with container.db.session() as session:
            await merged_feed(session, usernames)
            _key, plain = await create_key(session, name="demo admin", scope="admin")
        return plain


async def merged_feed(session: AsyncSession, usernames: list[str]) -> None:
    """The demo's third feed, beside each account's own: both accounts merged."""
    from instagram_service.feeds.service import create_feed, feed_by_slug
    from instagram_service.models import InstagramAccount

    try:
        await feed_by_slug(session, MERGED_FEED)
        return
    except NotFound:
        pass
    ids = await session.scalars(
        select(InstagramAccount.id).where(InstagramAccount.username.in_(usernames))
    )
    await create_feed(
        session, slug=MERGED_FEED, title="Both studios", account_ids=sorted(ids),
        display={"layout": "highlight"},
    )  # fmt: skip


def run_demo(port: int = 8000, data_dir: Path = Path("./data/demo")) -> None:
    data_dir = data_dir.resolve()
    with running_emulator("demo") as emulator:
        console.print(f"Instagram emulator (demo scenario) on {emulator.base_url}")
        settings = demo_settings(emulator, data_dir, port)
        tokens = [account.tokens[0].token for account in emulator.state.scenario.accounts]
        admin_key = asyncio.run(prepare(settings, tokens))
        base = f"http://127.0.0.1:{port}"
        console.print()
        console.print(f"[bold]Website[/bold]       {base}/ (the widget, a snippet per feed)")
        console.print(f"[bold]Embed page[/bold]    {base}/embed/{MERGED_FEED}")
        console.print(f"[bold]Gallery[/bold]       {base}/api/v1/gallery")
        console.print(f"[bold]API docs[/bold]      {base}/docs")
        console.print(f"[bold]Admin console[/bold] {base}/admin/login (log in with the key below)")
        console.print("[bold]Admin API key[/bold] (Authorization: Bearer ...):")
        console.print(admin_key, soft_wrap=True)
        console.print("Ctrl-C stops everything.")
        serve_app(settings, host="127.0.0.1", port=port, log_level="warning")
    console.print("demo stopped")
