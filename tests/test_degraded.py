"""Degraded modes: PostgreSQL or Redis down gives a reason, not a traceback or an exit."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys

import httpx

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.observability import configure_logging, get_logger
from instagram_service.settings import Settings
from instagram_service.worker.probe_server import probe_port
from instagram_service.worker.probes import dependency_checks


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens here once closed


async def test_readyz_with_redis_down_still_serves_and_says_so(
    settings: Settings, db: Database
) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    app = create_app(down, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ready = await c.get("/readyz")
        gallery = await c.get("/api/v1/gallery")
    assert ready.status_code == 200  # the gallery works: not taken out of the load balancer
    assert ready.json()["status"] == "degraded"
    assert ready.json()["down"]["redis"].startswith("redis unreachable: ConnectionError")
    assert gallery.status_code == 200


async def test_database_down_is_a_503_with_the_reason(settings: Settings) -> None:
    broken = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/nothing")
    app = create_app(settings, database=broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        posts = await c.get("/api/v1/posts", headers={"Authorization": "Bearer igs_whatever"})
        ready = await c.get("/readyz")
    await broken.dispose()
    assert posts.status_code == 503
    assert posts.json()["detail"].startswith("database unavailable: ConnectionRefusedError")
    assert posts.headers["retry-after"]
    assert ready.status_code == 503
    assert "database" in ready.json()["down"]


async def test_probe_port_of_a_worker(settings: Settings, db: Database) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    async with probe_port("127.0.0.1", 0, dependency_checks(down, db)) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
            metrics = await client.get("/metrics")
            unknown = await client.get("/nope")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert set(ready.json()["down"]) == {"redis"}  # the database answers
    assert metrics.status_code == 200
    assert "igs_sync_jobs_total" in metrics.text
    assert "igs_instagram_api_calls_total" in metrics.text or "# TYPE" in metrics.text
    assert unknown.status_code == 404


def test_a_logged_exception_is_one_line_below_debug(capsys: object) -> None:
    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        configure_logging("INFO")
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError:
            logging.getLogger("taskiq.receiver").exception("Exception found while executing")
            get_logger("test").exception("task failed")
    finally:
        root.removeHandler(handler)
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "Traceback" not in err
    assert "Exception found while executing: ConnectionRefusedError: [Errno 111]" in err
    assert "ConnectionRefusedError" in err.split("task failed", 1)[1]


def test_migrate_with_the_database_down_prints_one_line() -> None:
    env = {"IGS_DATABASE_URL": f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/x"}
    done = subprocess.run(
        [sys.executable, "-m", "instagram_service.cli", "migrate"],
        env={**_base_env(), **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [lines[0]], done.stderr
    assert lines[0].startswith("error: cannot migrate, database unreachable: ConnectionRefused")


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
