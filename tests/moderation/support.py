"""Helpers for the moderation tests: rules and posts without a database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from instagram_service.models import ContentFilter, InstagramAccount, InstagramPost
from instagram_service.moderation.moderator import compile_rule, defaults_from, post_facts
from instagram_service.moderation.rules import Decision, RuleSet
from instagram_service.settings import Settings
from instagram_service.sync.captions import extract_hashtags

_ids = itertools.count(1)

FILTER_DEFAULTS: dict[str, Any] = {
    "description": None,
    "is_active": True,
    "priority": 100,
    "blacklist_hashtags": [],
    "whitelist_hashtags": [],
    "blacklist_keywords": [],
    "keywords": [],
    "min_likes": None,
    "min_engagement_rate": None,
    "auto_approve": False,
    "auto_feature": False,
    "auto_categorize": False,
    "category": None,
}


def content_filter(**fields: Any) -> ContentFilter:
    """An unsaved ContentFilter with every column set (ids given or counted)."""
    values = {**FILTER_DEFAULTS, "id": next(_ids), "name": "rule", **fields}
    return ContentFilter(**values)


def filter_fields(**fields: Any) -> dict[str, Any]:
    """Columns of a ContentFilter to insert (no id)."""
    return {**FILTER_DEFAULTS, "name": "rule", **fields}


def post(caption: str | None = "", **fields: Any) -> InstagramPost:
    values: dict[str, Any] = {
        "instagram_id": str(next(_ids)),
        "media_type": "IMAGE",
        "caption": caption,
        "hashtags": extract_hashtags(caption),
        "like_count": 10,
        "comments_count": 1,
        "posted_at": datetime(2024, 1, 1, tzinfo=UTC),
        "is_approved": None,
        "is_featured": False,
        "gallery_category": "general",
        "display_order": 0,
        "manual_fields": [],
        "moderation_reason": {},
    }
    values.update(fields)
    return InstagramPost(**values)


def account(followers: int | None = 1000) -> InstagramAccount:
    return InstagramAccount(username="studio", followers_count=followers)


def decide(
    settings: Settings,
    filters: list[ContentFilter],
    caption: str | None = "",
    *,
    followers: int | None = 1000,
    **post_fields: Any,
) -> Decision:
    rules = RuleSet([compile_rule(f) for f in filters if f.is_active], defaults_from(settings))
    return rules.decide(post_facts(post(caption, **post_fields), account(followers)))
