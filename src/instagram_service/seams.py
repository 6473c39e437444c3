"""Which moderation and media implementations the sync engine gets, chosen in one place."""

from __future__ import annotations

from instagram_service.db import Database
from instagram_service.settings import Settings
from instagram_service.sync.seams import (
    DefaultModerationSeam,
    MediaSeam,
    ModerationSeam,
    NoMediaSeam,
)


def default_seams(settings: Settings, db: Database | None) -> tuple[ModerationSeam, MediaSeam]:
    return DefaultModerationSeam(), NoMediaSeam()
