"""Schemathesis over the app's own OpenAPI: no request may end in a server error.

The app runs as `instagram-service serve` in its own process, on its own database, so the
fuzzer's changes (and the app's process-wide runtime) touch nothing else; an admin key is
sent with every request.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.emulator.server import EmulatorHandle
from instagram_service.migrate import upgrade
from instagram_service.models import ContentFilter, MediaStatus
from instagram_service.settings import Settings
from tests.api.conftest import cli_command, free_port
from tests.conftest import TOKEN_KEY
from tests.support.factories import make_account, make_post

FAKE_VARIANTS = {
    name: {"key": f"{name}/fuzz.webp", "width": 300, "height": 300, "format": "webp"}
    for name in ("original", "thumbnail", "optimized")
}


async def _admin(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE, run from the server's `postgres` database."""
    server = make_url(url).set(database="postgres")
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


async def fresh_database_url(base_url: str, tmp: Path) -> str:
    if base_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
    url = make_url(base_url)
    url = url.set(database=f"{url.database}_fuzz")
    await _admin(base_url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    await _admin(base_url, f'CREATE DATABASE "{url.database}"')
    return url.render_as_string(hide_password=False)


async def seed(url: str) -> str:
    """A few posts in every state, a filter; returns an admin key."""
    db = Database(url)
    try:
        await upgrade(db.engine)
        async with db.session() as session:
            account = await make_account(session, username="fuzz_studio")
            await make_post(
                session, account, media_status=MediaStatus.READY, variants=FAKE_VARIANTS
            )
            await make_post(session, account, is_approved=None)
            await make_post(session, account, is_featured=True, media_status=MediaStatus.READY)
            session.add(ContentFilter(name="no spam", blacklist_keywords=["spam"]))
            _, key = await create_key(session, name="fuzz", scope="admin")
        return key
    finally:
        await db.dispose()


@dataclass
class Server:
    base_url: str
    admin: dict[str, str]
    session: requests.Session


@dataclass
class FuzzDb:
    url: str
    admin_key: str


@pytest.fixture(scope="module")
async def fuzz_db(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzDb]:
    url = await fresh_database_url(database_url, tmp_path_factory.mktemp("fuzz"))
    yield FuzzDb(url, await seed(url))
    if not url.startswith("sqlite"):
        await _admin(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(
    fuzz_db: FuzzDb, emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    emulated = emulator.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")} | {
        "IGS_DATABASE_URL": fuzz_db.url,
        "IGS_DATA_DIR": str(tmp_path_factory.mktemp("fuzz-data")),
        "IGS_TOKEN_KEYS": TOKEN_KEY,
        "IGS_GRAPH_BASE_URL": emulated.graph_base_url,
        "IGS_OAUTH_TOKEN_URL": emulated.oauth_token_url,
        "IGS_APP_ID": emulated.app_id or "",
        "IGS_APP_SECRET": "fuzz-secret",
        "IGS_WEBHOOK_VERIFY_TOKEN": "fuzz-verify",
        "IGS_DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
        "IGS_DOWNLOAD_ALLOW_HTTP": "true",
        "IGS_EMBEDDED_SCHEDULER": "false",
    }
    port = free_port()
    command = [*cli_command(), "serve", "--port", str(port)]
    log = (tmp_path_factory.mktemp("fuzz-log") / "server.log").open("w+")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"the app did not start:\n{log.read()}")
        time.sleep(0.2)
    with requests.Session() as session:
        yield Server(base_url, {"Authorization": f"Bearer {fuzz_db.admin_key}"}, session)
    process.terminate()
    process.wait(timeout=30)
    log.close()


# The schema does not depend on settings; built at import because schemathesis's lazy
# `from_fixture` loader does not work with pytest 9.2 (it sets `Function._nodeid`).
# Revoking keys would revoke the fuzzer's own key (id 1) and end the run early.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(token_keys=[TOKEN_KEY])).openapi()
).exclude(method="DELETE", path="/api/v1/keys/{key_id}")


@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case, server: Server) -> None:
    case.call_and_validate(
        base_url=server.base_url,
        session=server.session,
        headers=server.admin,
        checks=[not_a_server_error],
        timeout=30,
    )
