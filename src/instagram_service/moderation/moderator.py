"""The moderator the sync engine plugs in (`sync.ports.MODERATION`): the content filter rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.models import Category, ContentFilter, InstagramAccount, InstagramPost
from instagram_service.moderation.rules import (
    Decision,
    Defaults,
    PostFacts,
    Rule,
    RuleSet,
    needles,
    tag_keys,
)
from instagram_service.moderation.text import Haystack, caption_hashtags, hashtag_key
from instagram_service.settings import Settings

# post.moderation_reason key of each field an admin can set.
REASON_KEYS = {
    "is_approved": "approval",
    "is_featured": "featured",
    "gallery_category": "category",
    "display_order": "order",
}


# A rule previewed before it is saved runs after the saved ones of its priority.
UNSAVED_RULE_ID = 2**31


def compile_rule(row: ContentFilter) -> Rule:
    return Rule(
        id=row.id if row.id is not None else UNSAVED_RULE_ID,
        name=row.name,
        priority=row.priority,
        blacklist_hashtags=tag_keys(row.blacklist_hashtags or ()),
        whitelist_hashtags=tag_keys(row.whitelist_hashtags or ()),
        blacklist_keywords=needles(row.blacklist_keywords or ()),
        keywords=needles(row.keywords or ()),
        min_likes=row.min_likes,
        min_engagement_rate=row.min_engagement_rate,
        auto_approve=row.auto_approve,
        auto_feature=row.auto_feature,
        auto_categorize=row.auto_categorize,
        category=row.category,
    )


def defaults_from(settings: Settings, categories: frozenset[str] | None = None) -> Defaults:
    return Defaults(
        featured_threshold=settings.featured_engagement_threshold,
        featured_hashtags=tag_keys(settings.featured_hashtags),
        blocked_words=needles(settings.moderation_blocked_words),
        categories=categories,
    )


def post_facts(post: InstagramPost, account: InstagramAccount | None) -> PostFacts:
    tags = {hashtag_key(tag) for tag in post.hashtags or ()} | caption_hashtags(post.caption)
    return PostFacts(
        hashtags=frozenset(tags),
        text=Haystack.of(post.caption, " ".join(post.hashtags or ())),
        like_count=post.like_count,
        comments_count=post.comments_count,
        followers_count=account.followers_count if account is not None else None,
    )


def apply_decision(post: InstagramPost, decision: Decision) -> bool:
    """Write the decision into the fields an admin has not set; True if anything changed."""
    manual = set(post.manual_fields or ())
    values: dict[str, Any] = {
        "is_approved": decision.is_approved,
        "is_featured": decision.is_featured,
        "gallery_category": decision.category,
    }
    changed = False
    reasons = dict(post.moderation_reason or {})
    for name, value in values.items():
        if name in manual:
            continue
        reasons[REASON_KEYS[name]] = decision.reasons[REASON_KEYS[name]]
        if getattr(post, name) != value:
            setattr(post, name, value)
            changed = True
    if reasons != post.moderation_reason:
        post.moderation_reason = reasons
        changed = True
    return changed


class RulesModerator:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def decide(self, post: InstagramPost, account: InstagramAccount | None) -> Decision:
        return self.rules.decide(post_facts(post, account))

    def apply_changed(self, post: InstagramPost, account: InstagramAccount | None) -> bool:
        return apply_decision(post, self.decide(post, account))

    def apply(self, post: InstagramPost, account: InstagramAccount) -> None:
        self.apply_changed(post, account)


async def load_rules(
    session: AsyncSession, settings: Settings, *, replace: ContentFilter | None = None
) -> RuleSet:
    """The active rules; `replace` (a rule not yet saved, or edited) stands in for its id."""
    rows: list[ContentFilter] = list(
        await session.scalars(select(ContentFilter).where(ContentFilter.is_active.is_(True)))
    )
    if replace is not None:
        rows = [row for row in rows if replace.id is None or row.id != replace.id]
        if replace.is_active:
            rows.append(replace)
    # Never empty once migrated ('general' cannot be deleted); empty: not managed here.
    categories = frozenset(await session.scalars(select(Category.name))) or None
    return RuleSet([compile_rule(row) for row in rows], defaults_from(settings, categories))


class RulesModeration:
    """`ModerationPort` for the sync engine: loads the active rules once per run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def prepare(self, session: AsyncSession) -> RulesModerator:
        return RulesModerator(await load_rules(session, self.settings))
