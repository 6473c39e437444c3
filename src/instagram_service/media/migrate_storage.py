"""`media migrate-storage --to s3`: copy the local media folder into the bucket.

Each object is uploaded (unless the bucket has it already), read back and compared by
SHA-256 with the local file, whose name must also carry the start of that hash. Objects
are written whole or not at all, so after a crash the rerun simply goes on: what is in the
bucket is verified and skipped, the rest uploaded."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from instagram_service.media.storage import InvalidKey, Storage, StoredObject, validate_key


@dataclass
class MigrationReport:
    total: int = 0
    total_bytes: int = 0
    uploaded: int = 0
    present: int = 0  # in the bucket already (an earlier, interrupted run): verified
    verified: int = 0
    removed_local: int = 0
    failed: list[str] = field(default_factory=list)  # "key: reason"

    @property
    def ok(self) -> bool:
        return not self.failed


def _name_hash(key: str) -> str | None:
    """`thumbnails/<media_id>_<hash12>.webp` -> `<hash12>` (None when not named so)."""
    stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    digest = stem.rsplit("_", 1)[-1] if "_" in stem else ""
    return digest if len(digest) == 12 else None


async def plan(source: Storage) -> list[StoredObject]:
    return sorted([obj async for obj in source.list_objects()], key=lambda obj: obj.key)


async def migrate_storage(
    source: Storage,
    target: Storage,
    objects: list[StoredObject],
    *,
    concurrency: int = 8,
    remove_local: bool = False,
    advance: Callable[[StoredObject], None] = lambda obj: None,
) -> MigrationReport:
    report = MigrationReport(total=len(objects), total_bytes=sum(o.size for o in objects))
    slots = asyncio.Semaphore(concurrency)

    async def one(obj: StoredObject) -> None:
        async with slots:
            try:
                await _copy(source, target, obj.key, report, remove_local)
            except (InvalidKey, FileNotFoundError, ValueError) as exc:
                report.failed.append(f"{obj.key}: {exc}")
            advance(obj)

    await asyncio.gather(*(one(obj) for obj in objects))
    return report


async def _copy(
    source: Storage, target: Storage, key: str, report: MigrationReport, remove_local: bool
) -> None:
    data = await source.read(validate_key(key))
    digest = hashlib.sha256(data).hexdigest()
    named = _name_hash(key)
    if named is not None and not digest.startswith(named):
        raise ValueError(f"local file does not match its name's hash {named}")
    if await target.save(key, data):
        report.uploaded += 1
    else:
        report.present += 1
    if hashlib.sha256(await target.read(key)).hexdigest() != digest:
        raise ValueError("the bucket's object differs from the local file")
    report.verified += 1
    if remove_local:
        removed = await source.delete(key)  # (not `+= await`: the gather would lose counts)
        report.removed_local += removed
