"""API keys: who may call what, keys made through the API and through the CLI."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.settings import Settings
from tests.api.conftest import Keys, bearer, cli_command
from tests.conftest import TOKEN_KEY

# Admin reads: a read key is enough. Every other route with a key is an admin change.
READ_SCOPE = {
    ("GET", "/metrics"),
    ("GET", "/api/v1/posts"),
    ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/accounts/{account_id}"),
    ("GET", "/api/v1/sync/status"),
    ("GET", "/api/v1/sync/jobs"),
    ("GET", "/api/v1/sync/jobs/{job_id}"),
    ("GET", "/api/v1/filters"),
    ("GET", "/api/v1/filters/{filter_id}"),
    ("GET", "/api/v1/feeds"),
    ("GET", "/api/v1/categories"),
}
# Public without a key; a key changes the answer (the admin shape, a feed by id).
OPTIONAL_KEY = {("GET", "/api/v1/posts/{post_id}"), ("GET", "/api/v1/feeds/{ref}")}
MISSING = {"detail": "missing API key: send Authorization: Bearer <key>"}
INVALID = {"detail": "invalid or revoked API key"}


def secured_operations(app: FastAPI) -> list[tuple[str, str]]:
    operations = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]
    return [op for op in operations if op not in OPTIONAL_KEY]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, concrete(path), headers=headers)


async def test_every_secured_route_wants_a_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    operations = secured_operations(app)
    assert READ_SCOPE <= set(operations)
    for method, path in operations:
        for headers, body in [
            ({}, MISSING),
            ({"Authorization": "Basic dXNlcjpwYXNz"}, MISSING),
            (bearer("igs_not-a-key"), INVALID),
        ]:
            response = await call(client, method, path, headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.json() == body


async def test_read_key_scope(client: httpx.AsyncClient, app: FastAPI, keys: Keys) -> None:
    for method, path in secured_operations(app):
        response = await call(client, method, path, keys.read)
        if (method, path) in READ_SCOPE:
            assert response.status_code in (200, 404), (method, path, response.text)
        else:
            assert response.status_code == 403, (method, path)
            assert "admin key" in response.json()["detail"]


@pytest.mark.parametrize("scope", ["read", "admin"])
async def test_admin_reads_answer_200(client: httpx.AsyncClient, keys: Keys, scope: str) -> None:
    headers = keys.read if scope == "read" else keys.admin
    for method, path in sorted(READ_SCOPE):
        if "{" not in path:
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 200, (path, response.text)


async def test_admin_key_reads_admin_lists(client: httpx.AsyncClient, keys: Keys) -> None:
    for path in ("/api/v1/keys", "/api/v1/webhook-subscriptions"):
        assert (await client.get(path, headers=keys.admin)).status_code == 200


async def test_wrong_key_on_the_public_post_route(client: httpx.AsyncClient) -> None:
    """Credentials are optional there, but when given they must be valid."""
    response = await client.get("/api/v1/posts/1", headers=bearer("igs_wrong"))
    assert (response.status_code, response.json()) == (401, INVALID)


async def test_public_routes_need_no_key(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/gallery", "/api/v1/gallery/featured", "/api/v1/gallery/categories"):
        assert (await client.get(path)).status_code == 200


async def create(client: httpx.AsyncClient, keys: Keys, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/keys", json=body, headers=keys.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_key_made_through_the_api_then_revoked(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create(client, keys, name="website", scope="read")
    assert created["key"].startswith(created["prefix"])
    website = bearer(created["key"])
    assert (await client.get("/api/v1/posts", headers=website)).status_code == 200
    assert (await client.post("/api/v1/filters", json={}, headers=website)).status_code == 403
    listed = (await client.get("/api/v1/keys", headers=keys.admin)).json()["items"]
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine
    assert "key_hash" not in mine
    assert mine["last_used_at"] is not None
    revoked = await client.delete(f"/api/v1/keys/{created['id']}", headers=keys.admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    response = await client.get("/api/v1/posts", headers=website)
    assert (response.status_code, response.json()) == (401, INVALID)


async def test_admin_key_made_through_the_api_can_make_keys(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    admin = Keys(
        admin=bearer((await create(client, keys, name="ops", scope="admin"))["key"]), read={}
    )
    assert (await create(client, admin, name="from ops"))["scope"] == "read"


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "x", "scope": "owner"}, {"name": "x" * 256}]
)
async def test_bad_key_requests_are_422(
    client: httpx.AsyncClient, keys: Keys, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/keys", json=body, headers=keys.admin)
    assert response.status_code == 422


async def run_cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *cli_command(), *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_key_made_with_the_cli(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    env |= {"IGS_DATABASE_URL": url, "IGS_DATA_DIR": str(tmp_path), "IGS_TOKEN_KEYS": TOKEN_KEY}
    admin = (await run_cli(env, "keys", "create", "--scope", "admin", "--name", "ops")).split()[-1]
    read = (await run_cli(env, "keys", "create", "--scope", "read", "--name", "site")).split()[-1]
    assert admin.startswith("igs_")
    assert read.startswith("igs_")
    settings = Settings(data_dir=tmp_path, database_url=url, token_keys=[TOKEN_KEY])
    db = Database(url)
    try:
        app = create_app(settings, database=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/api/v1/posts", headers=bearer(read))).status_code == 200
            made = await http.post("/api/v1/keys", json={"name": "x"}, headers=bearer(read))
            assert made.status_code == 403
            made = await http.post("/api/v1/keys", json={"name": "x"}, headers=bearer(admin))
            assert made.status_code == 201
            listed = await http.get("/api/v1/keys", headers=bearer(admin))
            assert [k["name"] for k in listed.json()["items"]] == ["ops", "site", "x"]
    finally:
        await db.dispose()
