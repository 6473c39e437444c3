"""Removing stored media files; storage-agnostic callers use this after a commit."""

from __future__ import annotations

from instagram_service.settings import Settings


async def remove_media_files(settings: Settings, keys: list[str]) -> None:
    if not keys:
        return
    from instagram_service.media.storage import LocalStorage, remove_files

    await remove_files(LocalStorage(settings.media_root), keys)
