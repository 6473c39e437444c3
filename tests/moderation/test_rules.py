"""The rules engine, without a database: each rule kind, order, defaults, explanations."""

from __future__ import annotations

import pytest

from instagram_service.settings import Settings
from tests.support.moderation import content_filter, decide


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    """Settings whose defaults feature nothing."""
    return settings.model_copy(
        update={"featured_engagement_threshold": 10**9, "featured_hashtags": []}
    )


def test_no_rules_approves_and_categorises_by_keyword_map(settings: Settings) -> None:
    decision = decide(settings, [], "Here is how to style curls")
    assert decision.is_approved is True
    assert decision.category == "tutorial"
    assert decision.reasons["approval"] == "default: approve (no active rules)"
    assert decision.reasons["category"] == "default: keyword map (tutorial: 'how to')"


@pytest.mark.parametrize(
    ("caption", "category"),
    [
        ("Before and after of a colour correction", "before_after"),
        ("Amazing #transformation today", "before_after"),
        ("3 tips for frizz", "tutorial"),
        ("New serum available in the shop", "product"),
        ("Recent work for a lovely client", "portfolio"),
        ("Happy birthday to our team!", "personal"),
        ("Sunny Tuesday", "general"),
        (None, "general"),
    ],
)
def test_default_keyword_map(settings: Settings, caption: str | None, category: str) -> None:
    assert decide(settings, [], caption).category == category


def test_general_has_an_explanation(settings: Settings) -> None:
    reason = decide(settings, [], "Sunny Tuesday").reasons["category"]
    assert reason == "default: general (no keyword of the map)"


def test_default_featured_by_engagement(settings: Settings) -> None:
    # likes + 3 x comments > 1000
    decision = decide(settings, [], "x", like_count=900, comments_count=34)
    assert decision.is_featured is True
    assert decision.reasons["featured"] == (
        "default: engagement 1002 above 1000 (likes + 3 x comments)"
    )


def test_default_not_featured_at_the_threshold(settings: Settings) -> None:
    decision = decide(settings, [], "x", like_count=1000, comments_count=0)
    assert decision.is_featured is False
    assert decision.reasons["featured"] == "default: not featured (engagement 1000, not above 1000)"


def test_default_featured_by_hashtag(settings: Settings) -> None:
    decision = decide(settings, [], "Our #BestOf this year", like_count=0)
    assert decision.is_featured is True
    assert decision.reasons["featured"] == "default: featured hashtag #bestof"


def test_hidden_likes_count_zero_for_default_featuring(settings: Settings) -> None:
    decision = decide(settings, [], "x", like_count=None, comments_count=400)
    assert decision.is_featured is True


def test_blacklisted_hashtag_rejects_with_reason(settings: Settings) -> None:
    rule = content_filter(id=3, name="No competitors", blacklist_hashtags=["#Cheap"])
    decision = decide(settings, [rule], "Great deal #CHEAP")
    assert decision.is_approved is False
    assert decision.reasons["approval"] == "rule 3 'No competitors': blacklisted hashtag #Cheap"


def test_blacklisted_hashtag_is_accent_insensitive(settings: Settings) -> None:
    rule = content_filter(blacklist_hashtags=["cafe"])
    assert decide(settings, [rule], "Morning #Café").is_approved is False


def test_blacklisted_hashtag_in_post_hashtags_only(settings: Settings) -> None:
    rule = content_filter(blacklist_hashtags=["#cheap"])
    assert decide(settings, [rule], None, hashtags=["#cheap"]).is_approved is False


def test_blacklisted_hashtag_does_not_match_plain_word(settings: Settings) -> None:
    rule = content_filter(blacklist_hashtags=["#cheap"])
    assert decide(settings, [rule], "not cheap at all").is_approved is True


def test_blacklisted_keyword_rejects_on_words_only(settings: Settings) -> None:
    rule = content_filter(id=4, name="No art", blacklist_keywords=["art"])
    assert decide(settings, [rule], "Party time").is_approved is True
    decision = decide(settings, [rule], "Nail ART")
    assert decision.is_approved is False
    assert decision.reasons["approval"] == "rule 4 'No art': blacklisted keyword 'art'"


def test_blacklisted_keyword_matches_hashtag_words(settings: Settings) -> None:
    rule = content_filter(blacklist_keywords=["giveaway"])
    assert decide(settings, [rule], "Enter now #giveaway").is_approved is False


def test_built_in_inappropriate_words_reject(settings: Settings) -> None:
    decision = decide(settings, [], "What the F*ck, this is SHIT")
    assert decision.is_approved is False
    assert decision.reasons["approval"] == "default: inappropriate word 'shit'"


def test_inappropriate_words_are_whole_words(settings: Settings) -> None:
    assert decide(settings, [], "Shitake mushrooms").is_approved is True


def test_inappropriate_words_are_overridable(settings: Settings) -> None:
    custom = settings.model_copy(update={"moderation_blocked_words": ["frizz"]})
    assert decide(custom, [], "No more FRIZZ").is_approved is False
    assert decide(custom, [], "shit happens").is_approved is True


def test_whitelist_admits_only_tagged_posts(settings: Settings) -> None:
    rule = content_filter(id=2, name="Brand only", whitelist_hashtags=["#mysalon"])
    assert decide(settings, [rule], "Look #MySalon").is_approved is True
    decision = decide(settings, [rule], "Look #other")
    assert decision.is_approved is False
    assert (
        decision.reasons["approval"] == "whitelist of rule 2 'Brand only': no whitelisted hashtag"
    )


def test_whitelists_of_several_rules_are_a_union(settings: Settings) -> None:
    rules = [content_filter(whitelist_hashtags=["#a"]), content_filter(whitelist_hashtags=["#b"])]
    assert decide(settings, rules, "#b").is_approved is True
    assert decide(settings, rules, "#c").is_approved is False


def test_min_likes_rejects_below(settings: Settings) -> None:
    rule = content_filter(id=5, name="Popular", min_likes=50)
    assert decide(settings, [rule], "x", like_count=50).is_approved is True
    decision = decide(settings, [rule], "x", like_count=12)
    assert decision.is_approved is False
    assert decision.reasons["approval"] == "rule 5 'Popular': 12 likes, below 50"


def test_hidden_likes_never_fail_a_threshold(settings: Settings) -> None:
    rules = [content_filter(min_likes=50), content_filter(min_engagement_rate=5.0)]
    assert decide(settings, rules, "x", like_count=None).is_approved is True


def test_min_engagement_rate_is_percent_of_followers(settings: Settings) -> None:
    rule = content_filter(id=6, name="Engaging", min_engagement_rate=2.0)
    # (15 + 5) / 1000 = 2 %
    assert decide(settings, [rule], "x", like_count=15, comments_count=5).is_approved is True
    decision = decide(settings, [rule], "x", like_count=14, comments_count=5)
    assert decision.is_approved is False
    assert decision.reasons["approval"] == "rule 6 'Engaging': engagement rate 1.90%, below 2%"


def test_unknown_followers_never_fail_engagement(settings: Settings) -> None:
    rule = content_filter(min_engagement_rate=2.0)
    assert decide(settings, [rule], "x", like_count=1, followers=None).is_approved is True
    assert decide(settings, [rule], "x", like_count=1, followers=0).is_approved is True


def test_threshold_applies_only_within_the_rules_keywords(settings: Settings) -> None:
    rule = content_filter(keywords=["tutorial"], min_likes=100)
    assert decide(settings, [rule], "tutorial", like_count=5).is_approved is False
    assert decide(settings, [rule], "portrait", like_count=5).is_approved is True


def test_thresholds_of_a_feature_rule_do_not_reject(quiet: Settings) -> None:
    rule = content_filter(id=7, name="Feature popular", min_likes=500, auto_feature=True)
    low = decide(quiet, [rule], "x", like_count=10)
    assert low.is_approved is True
    assert low.is_featured is False
    high = decide(quiet, [rule], "x", like_count=600)
    assert high.is_featured is True
    assert high.reasons["featured"] == "rule 7 'Feature popular': auto feature (600 likes)"


def test_hidden_likes_do_not_meet_a_feature_threshold(quiet: Settings) -> None:
    rule = content_filter(min_likes=500, auto_feature=True)
    assert decide(quiet, [rule], "x", like_count=None).is_featured is False


def test_auto_categorise_by_keyword(settings: Settings) -> None:
    rule = content_filter(
        id=8, name="Braids", keywords=["braid", "plait"], auto_categorize=True, category="portfolio"
    )
    decision = decide(settings, [rule], "A quick PLAIT how to")
    assert decision.category == "portfolio"
    assert decision.reasons["category"] == "rule 8 'Braids': auto categorise (keyword 'plait')"


def test_auto_categorise_by_whitelist_tag(settings: Settings) -> None:
    rule = content_filter(
        id=9, name="Shop", whitelist_hashtags=["#shop"], auto_categorize=True, category="product"
    )
    decision = decide(settings, [rule], "#shop new in")
    assert decision.category == "product"
    assert decision.reasons["category"] == "rule 9 'Shop': auto categorise (hashtag #shop)"


def test_unmatched_rules_fall_back_to_the_keyword_map(settings: Settings) -> None:
    rule = content_filter(keywords=["braid"], auto_categorize=True, category="portfolio")
    assert decide(settings, [rule], "how to curl").category == "tutorial"


def test_first_matching_rule_in_priority_order_decides(quiet: Settings) -> None:
    later = content_filter(
        id=1, name="Later", priority=20, auto_categorize=True, category="product"
    )
    first = content_filter(
        id=2, name="First", priority=10, auto_categorize=True, category="portfolio"
    )
    decision = decide(quiet, [later, first], "anything")
    assert decision.category == "portfolio"
    assert decision.reasons["category"].startswith("rule 2 'First'")


def test_priority_ties_are_broken_by_id(quiet: Settings) -> None:
    second = content_filter(id=12, name="B", auto_categorize=True, category="product")
    first = content_filter(id=11, name="A", auto_categorize=True, category="personal")
    assert decide(quiet, [second, first], "x").category == "personal"


def test_actions_come_from_the_first_rule_having_them(quiet: Settings) -> None:
    categorise = content_filter(priority=1, auto_categorize=True, category="product")
    feature = content_filter(priority=2, auto_feature=True)
    decision = decide(quiet, [categorise, feature], "x")
    assert decision.category == "product"
    assert decision.is_featured is True


def test_inactive_rules_are_ignored(settings: Settings) -> None:
    rule = content_filter(blacklist_hashtags=["#x"], is_active=False)
    assert decide(settings, [rule], "#x").is_approved is True


def test_auto_approve_makes_approval_opt_in(settings: Settings) -> None:
    rule = content_filter(id=10, name="Tutorials", keywords=["tutorial"], auto_approve=True)
    approved = decide(settings, [rule], "Tutorial: waves")
    assert approved.is_approved is True
    assert approved.reasons["approval"] == "rule 10 'Tutorials': auto approve (keyword 'tutorial')"
    pending = decide(settings, [rule], "Just a photo")
    assert pending.is_approved is None
    assert pending.reasons["approval"] == "pending: no auto-approve rule matched"


def test_rules_without_auto_approve_approve_what_they_do_not_reject(settings: Settings) -> None:
    rule = content_filter(blacklist_keywords=["spam"])
    decision = decide(settings, [rule], "hello")
    assert decision.is_approved is True
    assert decision.reasons["approval"] == "default: approve (no rule rejected it)"


def test_rejections_win_over_auto_approve(settings: Settings) -> None:
    approve_all = content_filter(priority=1, auto_approve=True)
    block = content_filter(priority=50, blacklist_keywords=["sale"])
    assert decide(settings, [approve_all, block], "Big sale").is_approved is False


def test_a_rule_does_not_match_posts_its_own_blacklist_hits(quiet: Settings) -> None:
    rule = content_filter(blacklist_keywords=["sale"], auto_feature=True)
    assert decide(quiet, [rule], "sale").is_featured is False
    assert decide(quiet, [rule], "hello").is_featured is True


def test_blacklist_reason_names_the_first_rule_in_priority_order(settings: Settings) -> None:
    late = content_filter(id=21, name="Late", priority=9, blacklist_keywords=["x"])
    early = content_filter(id=22, name="Early", priority=1, blacklist_hashtags=["#x"])
    reason = decide(settings, [late, early], "#x").reasons["approval"]
    assert reason == "rule 22 'Early': blacklisted hashtag #x"


def test_unicode_hashtags_and_emoji(settings: Settings) -> None:
    rules = [
        content_filter(blacklist_hashtags=["#кофе", "#東京"]),
        content_filter(blacklist_keywords=["🍆"]),
    ]
    assert decide(settings, rules, "Утро #Кофе").is_approved is False
    assert decide(settings, rules, "旅行 #東京").is_approved is False
    assert decide(settings, rules, "hmm 🍆🍆").is_approved is False
    assert decide(settings, rules, "#東京タワー 🍑").is_approved is True


def test_missing_caption(settings: Settings) -> None:
    rules = [content_filter(keywords=["x"], auto_approve=True), content_filter(min_likes=1)]
    decision = decide(settings, rules, None, like_count=None, comments_count=None)
    assert decision.is_approved is None
    assert decision.category == "general"
