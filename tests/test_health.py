from __future__ import annotations

from pathlib import Path

import httpx

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.settings import Settings


async def test_healthz_and_readyz(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.headers["x-request-id"]


async def test_request_id_is_echoed(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_readyz_reports_broken_database(settings: Settings) -> None:
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    app = create_app(settings, database=broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await broken.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "database unreachable" in body["detail"]


async def test_readyz_reports_unmigrated_database(settings: Settings, tmp_path: Path) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(settings, database=empty)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await empty.dispose()
    assert response.status_code == 503
    assert "run migrate" in response.json()["detail"]


async def test_metrics_need_a_key_and_expose_counters(api: httpx.AsyncClient, db: Database) -> None:
    from instagram_service.apikeys.service import create_key

    assert (await api.get("/metrics")).status_code == 401
    async with db.session() as session:
        key, plain = await create_key(session, name="prometheus", scope="read")
    response = await api.get("/metrics", headers={"Authorization": f"Bearer {plain}"})
    async with db.session() as session:
        await session.delete(await session.merge(key))
    assert response.status_code == 200
    assert 'igs_http_requests_total{method="GET",route="/metrics",status="401"}' in response.text


async def test_readyz_reports_unusable_media_storage(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """A media folder that cannot be created (a file in its place, as a bad volume mount
    leaves): degraded with the reason, the gallery's JSON still served."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    app = create_app(settings.model_copy(update={"media_dir": blocked}), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
        gallery = await client.get("/api/v1/gallery")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"]["storage"].startswith(f"media storage unusable: media folder {blocked}")
    assert gallery.status_code == 200
