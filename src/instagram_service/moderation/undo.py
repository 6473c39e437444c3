"""Undo of an admin's last moderation action: what it changed, and how to put it back.

A snapshot names one field and, per post, the value before and whether the admin had set it
by hand then. Putting it back restores the value; a field that was the rules' decision goes
back to being the rules' to decide (at the next sync or re-run), with the value it had.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from instagram_service.models import InstagramPost
from instagram_service.moderation.moderator import REASON_KEYS, RulesModerator, load_rules
from instagram_service.settings import Settings

FIELDS = ("is_approved", "is_featured", "gallery_category", "display_order", "alt_text")
MAX_POSTS = 200  # beyond this the snapshot would not fit a cookie: no undo offered


@dataclass(frozen=True)
class Snapshot:
    label: str
    field: str
    rows: list[tuple[int, Any, bool]]  # post id, value before, set by the admin before

    def dump(self) -> dict[str, Any]:
        return {"l": self.label, "f": self.field, "r": [list(row) for row in self.rows]}

    @classmethod
    def load(cls, data: Any) -> Snapshot | None:
        try:
            field = data["f"]
            rows = [(int(i), value, bool(manual)) for i, value, manual in data["r"]]
            label = str(data["l"])
        except (KeyError, TypeError, ValueError):
            return None
        return cls(label, field, rows) if field in FIELDS and rows else None


def take(label: str, field: str, posts: Iterable[InstagramPost]) -> Snapshot | None:
    """Before an action: the field's current values on the posts it will change."""
    assert field in FIELDS
    rows = [(post.id, getattr(post, field), field in (post.manual_fields or ())) for post in posts]
    return Snapshot(label, field, rows) if 0 < len(rows) <= MAX_POSTS else None


def of_orders(label: str, before: dict[int, tuple[int, bool]]) -> Snapshot | None:
    rows = [(post_id, order, manual) for post_id, (order, manual) in before.items()]
    return Snapshot(label, "display_order", rows) if 0 < len(rows) <= MAX_POSTS else None


async def _reason(
    session: AsyncSession,
    settings: Settings,
    post: InstagramPost,
    field: str,
    rules: list[RulesModerator],
) -> dict[str, Any]:
    """The rules' reason again, when they would decide the restored value."""
    reasons = dict(post.moderation_reason or {})
    key = REASON_KEYS[field]
    if field == "display_order":
        reasons.pop(key, None)
        return reasons
    if not rules:
        rules.append(RulesModerator(await load_rules(session, settings)))
    decision = rules[0].decide(post, post.account)
    decided = {"is_approved": decision.is_approved, "is_featured": decision.is_featured,
               "gallery_category": decision.category}[field]  # fmt: skip
    same = decided == getattr(post, field)
    reasons[key] = decision.reasons[key] if same else "restored by undo (as before the admin)"
    return reasons


async def restore(
    session: AsyncSession,
    settings: Settings,
    snapshot: Snapshot,
    account_ids: Sequence[int] | None = None,
) -> list[int]:
    """Put the snapshot's values back; returns the ids restored (posts since deleted or out
    of the key's accounts are skipped)."""
    ids = [row[0] for row in snapshot.rows]
    query = select(InstagramPost).where(InstagramPost.id.in_(ids))
    if account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(account_ids))
    posts = {
        post.id: post
        for post in await session.scalars(query.options(selectinload(InstagramPost.account)))
    }
    rules: list[RulesModerator] = []  # loaded once, when first needed
    field = snapshot.field
    for post_id, value, was_manual in snapshot.rows:
        post = posts.get(post_id)
        if post is None:
            continue
        setattr(post, field, value)
        manual = [name for name in post.manual_fields or () if name != field]
        if was_manual:
            manual.append(field)
        post.manual_fields = manual
        if not was_manual and field in REASON_KEYS:
            post.moderation_reason = await _reason(session, settings, post, field, rules)
    await session.flush()
    return list(posts)
