"""An API that syncs in its own process starts its image processes at start-up, at their low
priority (the forkserver they come from too), and not when the setting is off."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.media.pipeline import MediaPipeline
from instagram_service.settings import Settings
from instagram_service.sync import ports


def _pipeline(app: object) -> MediaPipeline:
    media = app.state.container.get(ports.MEDIA)  # type: ignore[attr-defined]
    assert isinstance(media, MediaPipeline)
    return media


def _children_named(marker: str) -> list[int]:
    """Our child processes whose command line has `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and marker in cmdline:
            found.append(int(entry.name))
    return found


def _nice(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])


async def test_the_image_processes_start_with_the_app(settings: Settings, db: Database) -> None:
    app = create_app(settings.model_copy(update={"image_pool_at_start": True}), database=db)
    async with app.router.lifespan_context(app):
        processor = _pipeline(app).processor
        for _ in range(300):  # in the background: the app answers meanwhile
            if processor._executor is not None and _children_named("forkserver"):
                break
            await asyncio.sleep(0.1)
        assert processor._executor is not None
        (forkserver,) = _children_named("multiprocessing.forkserver")
        # It imports Pillow and numpy at start: at the API's priority that slowed the gallery.
        assert _nice(forkserver) >= settings.image_worker_nice
    assert processor._executor is None  # closed with the app


async def test_not_started_when_turned_off(settings: Settings, db: Database) -> None:
    app = create_app(settings.model_copy(update={"image_pool_at_start": False}), database=db)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)
        assert _pipeline(app).processor._executor is None
