"""Incoming events: stored as received (raw bytes), de-duplicated by the hash of the body."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.db import utcnow
from instagram_service.models import WebhookEvent, WebhookEventStatus


@dataclass
class Stored:
    event_id: int
    created: bool  # False: a retry of a body we already have
    error: str | None  # set when the payload is malformed (stored as failed)


@dataclass
class Change:
    entry_id: str
    field: str
    value: dict[str, Any]


def payload_error(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"malformed JSON: {exc}"
    if not isinstance(payload, dict):
        return f"malformed payload: a JSON object was expected, not {type(payload).__name__}"
    return None


async def store_event(session: AsyncSession, body: bytes) -> Stored:
    """Store a verified body once; Meta retries the same bytes for 36 hours."""
    digest = hashlib.sha256(body).hexdigest()
    error = payload_error(body)
    query = select(WebhookEvent.id).where(WebhookEvent.body_hash == digest)
    existing = await session.scalar(query)
    if existing is not None:
        return Stored(existing, False, error)
    event = WebhookEvent(
        signature_ok=True,
        raw_body=body,
        body_hash=digest,
        status=WebhookEventStatus.FAILED if error else WebhookEventStatus.RECEIVED,
        error=error,
        processed_at=utcnow() if error else None,
    )
    try:
        async with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # The same retry arrived twice at once: the other request stored it.
        existing = await session.scalar(query)
        if existing is None:
            raise
        return Stored(existing, False, error)
    return Stored(event.id, True, error)


def iter_changes(payload: Any) -> list[Change]:
    """Every change of every entry: the `changes` list, the flat `field`/`value` entry of one
    of Meta's examples, or `messaging` (kept as one change, so that it is recorded)."""
    entries = payload.get("entry") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return []
    changes: list[Change] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        entry_id = str(entry.get("id", ""))
        items: list[Any]
        if isinstance(entry.get("changes"), list):
            items = entry["changes"]
        elif "field" in entry:
            items = [entry]
        elif "messaging" in entry:
            items = [{"field": "messaging", "value": {}}]
        else:
            items = [{"field": "", "value": {}}]
        for item in items:
            if not isinstance(item, dict):
                continue
            value = item.get("value")
            changes.append(
                Change(
                    entry_id, str(item.get("field", "")), value if isinstance(value, dict) else {}
                )
            )
    return changes
