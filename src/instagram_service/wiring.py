"""The one place that knows which adapters the sync engine gets: the rules moderator and
the media pipeline, plugged into the process's container (the app's lifespan, the worker
process and the CLI commands build theirs here)."""

from __future__ import annotations

from instagram_service.container import Container, build_container
from instagram_service.db import Database
from instagram_service.media.pipeline import MediaPipeline
from instagram_service.moderation.moderator import RulesModeration
from instagram_service.settings import Settings
from instagram_service.sync import ports


def build_wired(settings: Settings, db: Database | None = None) -> Container:
    container = build_container(settings, db)
    container.plug(ports.MODERATION, RulesModeration(settings))
    container.plug(ports.MEDIA, MediaPipeline(settings, container.db, container.client))
    return container
