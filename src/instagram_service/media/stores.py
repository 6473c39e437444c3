"""The store `IGS_STORAGE` names, built in one place (`storage.py` is the folder and the
protocol, `s3_storage.py` the bucket)."""

from __future__ import annotations

import asyncio
import atexit
import time
from collections.abc import Iterable

from instagram_service.dependencies_check import CHECK_TIMEOUT_S
from instagram_service.media.s3_storage import S3Storage
from instagram_service.media.storage import Storage, local_storage, remove_files
from instagram_service.media.storage_base import StorageUnavailable
from instagram_service.settings import Settings, StorageKind


def media_storage(settings: Settings) -> Storage:
    """The store `IGS_STORAGE` names: the one place that picks it. An S3 client is built
    once per bucket configuration and shared (it is safe on any event loop)."""
    if settings.storage is StorageKind.S3:
        return _s3_storage(settings)
    return local_storage(settings)


def _s3_config_key(settings: Settings) -> tuple[object, ...]:
    secret = settings.s3_secret_access_key
    return (
        settings.s3_bucket,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_prefix,
        settings.s3_access_key_id,
        secret.get_secret_value() if secret else None,
    )


_s3_stores: dict[tuple[object, ...], Storage] = {}


def _before_exit() -> None:
    """obstore's tokio threads hand each result to the event loop and then take the GIL back
    once more; one still doing so when the interpreter finalizes aborts the process (seen:
    exit code 134 in about 1 run of 6). A moment lets them finish first."""
    if _s3_stores:
        _s3_stores.clear()
        time.sleep(0.1)


atexit.register(_before_exit)


def _s3_storage(settings: Settings) -> Storage:
    key = _s3_config_key(settings)
    if key not in _s3_stores:
        _s3_stores[key] = S3Storage(settings)
    return _s3_stores[key]


async def remove_media_files(settings: Settings, keys: Iterable[str | None]) -> int:
    """Remove files after the commit that dropped their rows (see remove_files)."""
    return await remove_files(media_storage(settings), keys)


async def storage_down(settings: Settings) -> str | None:
    """The media folder usable, or the bucket answering (one listing), within the timeout."""
    try:
        await asyncio.wait_for(media_storage(settings).verify(), CHECK_TIMEOUT_S)
    except StorageUnavailable as exc:
        return f"media storage unusable: {exc.message}"[:300]
    except TimeoutError:
        return f"media storage unusable: no answer within {CHECK_TIMEOUT_S:g} s"
    return None
