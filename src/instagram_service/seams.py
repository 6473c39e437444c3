"""Which moderation and media implementations the sync engine gets, chosen in one place."""

from __future__ import annotations

from instagram_service.db import Database
from instagram_service.instagram.client import InstagramClient
from instagram_service.settings import Settings
from instagram_service.sync.seams import MediaSeam, ModerationSeam


def default_seams(
    settings: Settings, db: Database, client: InstagramClient
) -> tuple[ModerationSeam, MediaSeam]:
    from instagram_service.media.pipeline import MediaPipeline
    from instagram_service.moderation.seam import RulesModerationSeam

    return RulesModerationSeam(settings), MediaPipeline(settings, db, client)
