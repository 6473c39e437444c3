"""The rules engine: pure functions from compiled rules and a post's facts to a decision.

The semantics are written down in README.md next to this file; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from instagram_service.moderation.categories import DEFAULT_KEYWORD_MAP
from instagram_service.moderation.text import Haystack, hashtag_key, phrase

Needles = tuple[tuple[str, str], ...]  # (keyword as written, needle)


def needles(keywords: Iterable[str]) -> Needles:
    return tuple((kw, needle) for kw in keywords if (needle := phrase(kw)))


def tag_keys(tags: Iterable[str]) -> dict[str, str]:
    """Folded key -> the tag as written (for explanations)."""
    return {hashtag_key(tag): f"#{tag.strip().lstrip('#')}" for tag in tags if tag.strip("# ")}


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    priority: int = 100
    blacklist_hashtags: Mapping[str, str] = field(default_factory=dict)
    whitelist_hashtags: Mapping[str, str] = field(default_factory=dict)
    blacklist_keywords: Needles = ()
    keywords: Needles = ()
    min_likes: int | None = None
    min_engagement_rate: float | None = None  # percent
    auto_approve: bool = False
    auto_feature: bool = False
    auto_categorize: bool = False
    category: str | None = None

    @property
    def label(self) -> str:
        return f"rule {self.id} '{self.name}'"

    @property
    def categorizes(self) -> bool:
        return self.auto_categorize and self.category is not None

    @property
    def gates(self) -> bool:
        """Thresholds reject, unless they only qualify a feature or categorise action."""
        return not (self.auto_feature or self.categorizes)


@dataclass(frozen=True)
class PostFacts:
    hashtags: frozenset[str]  # folded keys
    text: Haystack
    like_count: int | None  # None: hidden by the owner
    comments_count: int | None
    followers_count: int | None

    @property
    def engagement_rate(self) -> float | None:
        """Likes plus comments over followers, in percent; None when unknown."""
        if self.like_count is None or not self.followers_count:
            return None
        return (self.like_count + (self.comments_count or 0)) * 100 / self.followers_count


@dataclass(frozen=True)
class Defaults:
    featured_threshold: int
    featured_hashtags: Mapping[str, str]
    blocked_words: Needles
    # The managed category list; None: every category of the keyword map exists.
    categories: frozenset[str] | None = None


@dataclass(frozen=True)
class Decision:
    is_approved: bool | None
    is_featured: bool
    category: str
    reasons: dict[str, str]  # approval, featured, category


def _blacklist_hit(rule: Rule, post: PostFacts) -> str | None:
    for key, tag in rule.blacklist_hashtags.items():
        if key in post.hashtags:
            return f"blacklisted hashtag {tag}"
    keyword = post.text.first(rule.blacklist_keywords)
    return None if keyword is None else f"blacklisted keyword '{keyword}'"


def _threshold_failure(rule: Rule, post: PostFacts) -> str | None:
    """Why the post is known to be below a threshold; unknown counts never fail."""
    likes, rate = post.like_count, post.engagement_rate
    if rule.min_likes is not None and likes is not None and likes < rule.min_likes:
        return f"{likes} likes, below {rule.min_likes}"
    if rule.min_engagement_rate is not None and rate is not None:
        if rate < rule.min_engagement_rate:
            return f"engagement rate {rate:.2f}%, below {rule.min_engagement_rate:g}%"
    return None


def _scope(rule: Rule, post: PostFacts) -> list[str] | None:
    """The rule's content criteria that hold (whitelist, keywords), or None if one fails."""
    found: list[str] = []
    if rule.whitelist_hashtags:
        tags = [tag for key, tag in rule.whitelist_hashtags.items() if key in post.hashtags]
        if not tags:
            return None
        found.append(f"hashtag {tags[0]}")
    if rule.keywords:
        keyword = post.text.first(rule.keywords)
        if keyword is None:
            return None
        found.append(f"keyword '{keyword}'")
    return found


def _match(rule: Rule, post: PostFacts) -> str | None:
    """Why the rule matches the post (for its actions), or None. Unknown counts never prove."""
    criteria = _scope(rule, post)
    if criteria is None or _blacklist_hit(rule, post) is not None:
        return None
    if rule.min_likes is not None:
        if post.like_count is None or post.like_count < rule.min_likes:
            return None
        criteria.append(f"{post.like_count} likes")
    if rule.min_engagement_rate is not None:
        rate = post.engagement_rate
        if rate is None or rate < rule.min_engagement_rate:
            return None
        criteria.append(f"engagement rate {rate:.2f}%")
    return ", ".join(criteria) or "every post"


Matches = list[tuple[Rule, str]]  # matching rules, why each matches


class RuleSet:
    """Active rules in priority order (lower first, ties by id), plus the defaults."""

    def __init__(self, rules: Sequence[Rule], defaults: Defaults) -> None:
        self.rules = sorted(rules, key=lambda rule: (rule.priority, rule.id))
        self.defaults = defaults
        self.whitelist = [rule for rule in self.rules if rule.whitelist_hashtags]
        self.opt_in = any(rule.auto_approve for rule in self.rules)

    def decide(self, post: PostFacts) -> Decision:
        matches = [(rule, why) for rule in self.rules if (why := _match(rule, post)) is not None]
        is_approved, approval = self._approval(post, matches)
        is_featured, featured = self._featured(post, matches)
        category, category_reason = self._category(post, matches)
        reasons = {"approval": approval, "featured": featured, "category": category_reason}
        return Decision(is_approved, is_featured, category, reasons)

    def _approval(self, post: PostFacts, matches: Matches) -> tuple[bool | None, str]:
        word = post.text.first(self.defaults.blocked_words)
        if word is not None:
            return False, f"default: inappropriate word '{word}'"
        for rule in self.rules:
            if (hit := _blacklist_hit(rule, post)) is not None:
                return False, f"{rule.label}: {hit}"
        if self.whitelist and not any(
            key in post.hashtags for rule in self.whitelist for key in rule.whitelist_hashtags
        ):
            names = ", ".join(rule.label for rule in self.whitelist)
            return False, f"whitelist of {names}: no whitelisted hashtag"
        for rule in self.rules:
            if rule.gates and _scope(rule, post) is not None:
                if (failure := _threshold_failure(rule, post)) is not None:
                    return False, f"{rule.label}: {failure}"
        for rule, why in matches:
            if rule.auto_approve:
                return True, f"{rule.label}: auto approve ({why})"
        if not self.rules:
            return True, "default: approve (no active rules)"
        if self.opt_in:
            return None, "pending: no auto-approve rule matched"
        return True, "default: approve (no rule rejected it)"

    def _featured(self, post: PostFacts, matches: Matches) -> tuple[bool, str]:
        for rule, why in matches:
            if rule.auto_feature:
                return True, f"{rule.label}: auto feature ({why})"
        for key, tag in self.defaults.featured_hashtags.items():
            if key in post.hashtags:
                return True, f"default: featured hashtag {tag}"
        # Hidden likes count as none here: featuring is a bonus, not a gate.
        score = (post.like_count or 0) + 3 * (post.comments_count or 0)
        threshold = self.defaults.featured_threshold
        if score > threshold:
            return True, f"default: engagement {score} above {threshold} (likes + 3 x comments)"
        return False, f"default: not featured (engagement {score}, not above {threshold})"

    def _category(self, post: PostFacts, matches: Matches) -> tuple[str, str]:
        for rule, why in matches:
            if rule.categorizes:
                assert rule.category is not None
                return rule.category, f"{rule.label}: auto categorise ({why})"
        for category, keywords in DEFAULT_CATEGORY_NEEDLES:
            if self.defaults.categories is not None and category not in self.defaults.categories:
                continue  # deleted from the managed list
            keyword = post.text.first(keywords)
            if keyword is not None:
                return category, f"default: keyword map ({category}: '{keyword}')"
        return "general", "default: general (no keyword of the map)"


DEFAULT_CATEGORY_NEEDLES: tuple[tuple[str, Needles], ...] = tuple(
    (category, needles(keywords)) for category, keywords in DEFAULT_KEYWORD_MAP
)
