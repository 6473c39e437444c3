"""Auto syncs: which accounts are due, and one job each in a single INSERT (on PostgreSQL the
unnest path, on SQLite the multi-row one: the suite runs on both)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import utcnow
from instagram_service.models import InstagramAccount, SyncJob, SyncStatus, SyncType
from instagram_service.sync import service


def _account(n: int, **fields: object) -> InstagramAccount:
    return InstagramAccount(
        instagram_user_id=f"77{n:06d}", username=f"due_{n}", access_token_encrypted=b"-", **fields
    )


async def test_due_accounts_get_one_scheduled_job_each(session: AsyncSession) -> None:
    now = utcnow()
    fresh = _account(1)  # never synced: FULL
    recent_full = _account(
        2,
        last_full_sync_at=now - timedelta(hours=1),
        last_sync_at=now - timedelta(hours=2),
        sync_frequency_minutes=60,
    )
    up_to_date = _account(3, last_full_sync_at=now, last_sync_at=now)
    busy = _account(4)
    blocked = _account(5, sync_blocked_until=now + timedelta(minutes=5))
    paused = _account(6, auto_sync=False)
    session.add_all([fresh, recent_full, up_to_date, busy, blocked, paused])
    await session.flush()
    session.add(SyncJob(account_id=busy.id, status=SyncStatus.RUNNING))
    await session.flush()

    due = await service.accounts_due(session)
    expected = [(fresh.id, SyncType.FULL), (recent_full.id, SyncType.INCREMENTAL)]
    assert sorted(due) == sorted([*expected, (busy.id, SyncType.FULL)])
    # The same account twice in one batch still gets one job (ON CONFLICT on the one-active
    # index), and the account with a running job gets none.
    ids = await service.schedule_auto_syncs(session, [*due, (fresh.id, SyncType.FULL)])
    jobs = (await session.scalars(select(SyncJob).where(SyncJob.id.in_(ids)))).all()
    assert sorted((j.account_id, j.sync_type, j.walk, j.trigger, j.status) for j in jobs) == sorted(
        [
            (fresh.id, "FULL", "FULL", "schedule", SyncStatus.PENDING),
            (recent_full.id, "INCREMENTAL", "INCREMENTAL", "schedule", SyncStatus.PENDING),
        ]
    )
    assert all(j.attempt == 1 and j.created_at is not None for j in jobs)
    assert await service.schedule_auto_syncs(session, due) == []  # all busy now


async def test_failures_back_off_the_next_auto_sync(session: AsyncSession) -> None:
    now = utcnow()
    account = _account(10, sync_frequency_minutes=30)
    session.add(account)
    await session.flush()
    for minutes_ago in (50, 40):  # two failures in a row: wait 30 x 2 = 60 minutes
        session.add(SyncJob(account_id=account.id, status=SyncStatus.FAILED,
                            completed_at=now - timedelta(minutes=minutes_ago)))  # fmt: skip
    await session.flush()
    assert account.id not in {a for a, _ in await service.accounts_due(session)}
