"""Per-account gauges read from the database, exported by the scheduler (one process, so
each account's series exists once): token expiry, reauth state, last success, sync interval."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import select

from instagram_service.db import Database
from instagram_service.models import InstagramAccount

LABELS = ["account", "username"]  # account: the Instagram user id, as the workers' metrics
TOKEN_EXPIRY_DAYS = Gauge("igs_token_expiry_days", "Days until the account's token expires", LABELS)
NEEDS_REAUTH = Gauge("igs_account_needs_reauth", "1 when the account must be reconnected", LABELS)
LAST_SUCCESS = Gauge(
    "igs_account_last_success_timestamp_seconds",
    "Unix time of the account's last successful sync (its creation time if none yet)",
    LABELS,
)
SYNC_INTERVAL = Gauge(
    "igs_account_sync_interval_seconds", "The account's automatic sync interval", LABELS
)
ACCOUNT_GAUGES = (TOKEN_EXPIRY_DAYS, NEEDS_REAUTH, LAST_SUCCESS, SYNC_INTERVAL)


async def refresh_account_gauges(db: Database, now: datetime) -> int:
    """Set the gauges of every active account and drop those of removed ones; returns how many."""
    query = select(
        InstagramAccount.instagram_user_id,
        InstagramAccount.username,
        InstagramAccount.needs_reauth,
        InstagramAccount.token_expires_at,
        InstagramAccount.last_sync_at,
        InstagramAccount.created_at,
        InstagramAccount.sync_frequency_minutes,
        InstagramAccount.auto_sync,
    ).where(InstagramAccount.is_active.is_(True))
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    fresh: dict[Gauge, set[tuple[str, str]]] = {gauge: set() for gauge in ACCOUNT_GAUGES}

    def put(gauge: Gauge, labels: tuple[str, str], value: float) -> None:
        gauge.labels(*labels).set(value)
        fresh[gauge].add(labels)

    for user_id, username, reauth, expires, last, created, minutes, auto in rows:
        labels = (user_id, username)
        put(NEEDS_REAUTH, labels, 1 if reauth else 0)
        if expires is not None:
            put(TOKEN_EXPIRY_DAYS, labels, (expires - now).total_seconds() / 86400)
        if auto and not reauth:  # "overdue" means something only for accounts meant to sync
            put(LAST_SUCCESS, labels, (last or created).timestamp())
            put(SYNC_INTERVAL, labels, minutes * 60)
    for gauge, kept in fresh.items():  # removed, not cleared: no scrape sees a gap
        for labels in _exported[gauge] - kept:
            gauge.remove(*labels)
        _exported[gauge] = kept
    return len(rows)


_exported: dict[Gauge, set[tuple[str, str]]] = {gauge: set() for gauge in ACCOUNT_GAUGES}
