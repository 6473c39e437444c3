"""`media migrate-storage --to s3`: copy the local media folder into the bucket.

Each object is uploaded (unless the bucket has it already), read back and compared by
SHA-256 with the local file, whose name must also carry the start of that hash. Objects
are written whole or not at all, so after a crash the rerun simply goes on: what is in the
bucket is verified and skipped, the rest uploaded."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from instagram_service.media.storage import InvalidKey, Storage, StoredObject, validate_key

T = TypeVar("T")


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

    async def one(obj: StoredObject) -> None:
        try:
            await _copy(source, target, obj.key, report, remove_local)
        except (InvalidKey, FileNotFoundError, ValueError) as exc:
            report.failed.append(f"{obj.key}: {exc}")
        advance(obj)

    await each(objects, one, concurrency)
    return report


async def each(
    items: Iterable[T], call: Callable[[T], Awaitable[object]], concurrency: int
) -> None:
    """`call` on every item, `concurrency` at a time, with that many tasks (not one per item:
    a library has hundreds of thousands of objects)."""
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # shared: each item is taken by one worker
            await call(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def present_in(target: Storage, objects: list[StoredObject], concurrency: int) -> int:
    """How many of these the target has already (for --dry-run)."""
    found = 0

    async def check(obj: StoredObject) -> None:
        nonlocal found
        there = await target.exists(obj.key)  # awaited first: `found += await` loses counts
        found += there

    await each(objects, check, concurrency)
    return found


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
