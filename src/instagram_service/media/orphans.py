"""The orphan sweep: objects in storage that no row names (an upload whose sync failed
before its commit, a delete that crashed after one). Young objects are left alone: a sync
may have stored them and not committed its rows yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.errors import Conflict
from instagram_service.media.storage import Storage, remove_files, variant_keys
from instagram_service.models import InstagramAccount, InstagramPost, PostMedia


@dataclass
class SweepReport:
    objects: int = 0
    orphans: list[str] = field(default_factory=list)
    young: int = 0  # orphans newer than the grace period, kept for now
    removed: int = 0


async def referenced_keys(db: Database) -> set[str]:
    """Every storage key a post, a carousel child or an account (its avatar) names."""
    keys: set[str] = set()
    async with db.session() as session:
        keys.update(
            key
            for key in await session.scalars(select(InstagramAccount.avatar_key))
            if key is not None
        )
        for model in (InstagramPost, PostMedia):
            rows = await session.stream(
                select(
                    model.variants,
                    model.local_image_path,
                    model.thumbnail_path,
                    model.optimized_path,
                    model.large_path,
                ).execution_options(yield_per=1000)
            )
            async for variants, *paths in rows:
                keys |= variant_keys(variants)
                keys.update(path for path in paths if path)
    return keys


async def sweep_orphans(
    db: Database,
    storage: Storage,
    *,
    grace: timedelta = timedelta(hours=6),
    dry_run: bool = False,
) -> SweepReport:
    await storage.verify()
    report = SweepReport()
    named = await referenced_keys(db)
    cutoff = datetime.now(UTC) - grace
    async for obj in storage.list_objects():
        report.objects += 1
        if obj.key in named:
            continue
        if obj.modified > cutoff:
            report.young += 1
            continue
        report.orphans.append(obj.key)
    if report.orphans and not named:
        raise Conflict(
            f"no post names any of the {report.objects} stored objects: is this the right "
            "database (IGS_DATABASE_URL)? Nothing was deleted"
        )
    if not dry_run:
        report.removed = await remove_files(storage, report.orphans)
    return report
