"""Media storage: content-addressed keys, atomic writes, a local folder implementation.

Layout (keys are relative paths with `/`):
    original/<media_id>_<hash12>.<ext>      bytes as downloaded
    thumbnails/<media_id>_<hash12>.webp     fits 300 x 300
    optimized/<media_id>_<hash12>.webp      fits 800 x 800
    large/<media_id>_<hash12>.webp          fits 1080 x 1080, when the original is bigger than 800
    avif/<folder>/<media_id>_<hash12>.avif  the same boxes in AVIF, when enabled
<hash12> is the start of the sha256 of that file's own bytes: a name never changes meaning,
so files can be cached forever, and saving the same bytes again writes nothing.

`IGS_STORAGE=s3` puts the same keys in a bucket (`s3_storage.py`); `stores.media_storage`
picks the backend, once per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from instagram_service.media.imaging import CONTENT_TYPES, ProcessedImage

# Re-exported: the stores' shared names, where callers have always found them.
from instagram_service.media.storage_base import InvalidKey as InvalidKey
from instagram_service.media.storage_base import StorageUnavailable as StorageUnavailable
from instagram_service.media.storage_base import StoredObject as StoredObject
from instagram_service.media.storage_base import validate_key as validate_key
from instagram_service.settings import Settings

FOLDERS = {
    "original": "original",
    "thumbnail": "thumbnails",
    "optimized": "optimized",
    "large": "large",
}
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def validate_media_id(media_id: str) -> str:
    if not _MEDIA_ID.fullmatch(media_id):
        raise InvalidKey(f"invalid media id {media_id!r}")
    return media_id


def content_key(folder: str, media_id: str, data: bytes, extension: str) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    return validate_key(f"{folder}/{validate_media_id(media_id)}_{digest}.{extension}")


@runtime_checkable
class Storage(Protocol):
    async def save(self, key: str, data: bytes) -> bool:
        """Store atomically; False when the key exists already (same name, same bytes)."""
        ...

    async def read(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """True if something was removed."""
        ...

    async def open(self, key: str) -> tuple[int, AsyncIterator[bytes]]:
        """Size and chunks, to stream; FileNotFoundError when absent."""
        ...

    def list_objects(self) -> AsyncIterator[StoredObject]:
        """Every object in the store, in no particular order."""
        ...

    async def verify(self) -> None:
        """Raise StorageUnavailable when the store cannot be used."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A file to serve directly, or None when the store is remote."""
        ...

    def accel_redirect(self, key: str) -> str | None:
        """The X-Accel-Redirect URI that lets nginx send the file, when configured."""
        ...


class LocalStorage:
    """A folder on local disk (or a shared volume). Blocking I/O runs in threads."""

    def __init__(self, root: Path, *, accel_prefix: str | None = None) -> None:
        self.root = root.resolve()
        self.accel_prefix = accel_prefix.rstrip("/") if accel_prefix else None

    def path(self, key: str) -> Path:
        path = self.root.joinpath(*validate_key(key).split("/"))
        if not path.resolve().is_relative_to(self.root):  # a symlink pointing out
            raise InvalidKey(f"storage key {key!r} leaves the media folder")
        return path

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def accel_redirect(self, key: str) -> str | None:
        return f"{self.accel_prefix}/{validate_key(key)}" if self.accel_prefix else None

    async def save(self, key: str, data: bytes) -> bool:
        return await asyncio.to_thread(self._save, self.path(key), data)

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self._delete, self.path(key))

    async def open(self, key: str) -> tuple[int, AsyncIterator[bytes]]:
        data = await self.read(key)  # media files are small: one read, no open handle

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return len(data), chunks()

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        for path in await asyncio.to_thread(self._files):
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            yield StoredObject(path.relative_to(self.root).as_posix(), stat.st_size, modified)

    async def verify(self) -> None:
        try:
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"media folder {self.root} is unusable: {exc}") from exc
        # A volume mounted read-only, or owned by another user: every save would fail.
        if not await asyncio.to_thread(os.access, self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"media folder {self.root} is not writable by this process")

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.rglob("*") if p.is_file() and not p.name.startswith(".")]

    @staticmethod
    def _save(path: Path, data: bytes) -> bool:
        if path.is_file():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temp, 0o644)  # mkstemp makes 0600; nginx must read it
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return True

    @staticmethod
    def _delete(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class StoredVariant:
    name: str  # thumbnail, optimized, large
    format: str  # webp, avif
    key: str
    width: int
    height: int
    size: int  # bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True, slots=True)
class StoredImage:
    """What a post_media row keeps about its image."""

    media_id: str
    content_hash: str  # sha256 of the original: re-downloaded bytes equal to it need no work
    original_key: str
    original_format: str
    original_size: int
    width: int
    height: int
    blurhash: str
    dominant_color: str
    variants: tuple[StoredVariant, ...]

    def key_for(self, name: str, format: str = "webp") -> str | None:
        variant = next((v for v in self.variants if v.name == name and v.format == format), None)
        return variant.key if variant else None

    @property
    def srcset(self) -> dict[str, int]:
        return {v.name: v.width for v in self.variants if v.format == "webp"}

    @property
    def keys(self) -> tuple[str, ...]:
        """Every file, for cleanup: delete the old keys a new version no longer uses."""
        return (self.original_key, *(v.key for v in self.variants))


async def store_processed(
    storage: Storage, media_id: str, processed: ProcessedImage
) -> StoredImage:
    """Write the original and every variant (files that exist already are left alone)."""
    original_key = content_key(
        "original", media_id, processed.original, processed.original_extension
    )
    planned = [(original_key, processed.original)]
    stored: list[StoredVariant] = []
    for variant in processed.variants:
        folder = FOLDERS.get(variant.name, variant.name)
        if variant.format != "webp":
            folder = f"{variant.format}/{folder}"
        key = content_key(folder, media_id, variant.data, variant.format)
        planned.append((key, variant.data))
        stored.append(
            StoredVariant(
                variant.name, variant.format, key, variant.width, variant.height, len(variant.data)
            )
        )
    for key, data in planned:
        await storage.save(key, data)
    return StoredImage(
        media_id=media_id,
        content_hash=processed.content_hash,
        original_key=original_key,
        original_format=processed.original_format,
        original_size=len(processed.original),
        width=processed.width,
        height=processed.height,
        blurhash=processed.blurhash,
        dominant_color=processed.dominant_color,
        variants=tuple(stored),
    )


def variant_keys(variants: Mapping[str, Any] | None) -> set[str]:
    """The storage keys a row's `variants` column names (images and video)."""
    return {
        str(entry["key"])
        for entry in (variants or {}).values()
        if isinstance(entry, Mapping) and entry.get("key")
    }


async def remove_files(storage: Storage, keys: Iterable[str | None]) -> int:
    """Delete these files (retention cleanup); empty keys are skipped. Returns how many went."""
    wanted = [validate_key(key) for key in keys if key]  # all checked before any is deleted
    removed = 0
    for key in wanted:
        removed += await storage.delete(key)
    return removed


def local_storage(settings: Settings) -> LocalStorage:
    """The media folder the settings name."""
    return LocalStorage(settings.media_root, accel_prefix=settings.media_accel_redirect_prefix)
