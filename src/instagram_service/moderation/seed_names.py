"""The seed's `ContentFilter` field names, which the filter routes accept and return.

`hashtag_blacklist`, `hashtag_whitelist` and `content_keywords` (keywords that reject) are
today's `blacklist_hashtags`, `whitelist_hashtags` and `blacklist_keywords`, still accepted.
The seed's `auto_categorize` is the category's name (or null for none); today's boolean
`auto_categorize` with a separate `category` is still accepted too.
"""

from __future__ import annotations

from typing import Any

# seed name -> the column (and today's name)
SEED_LISTS = {
    "hashtag_blacklist": "blacklist_hashtags",
    "hashtag_whitelist": "whitelist_hashtags",
    "content_keywords": "blacklist_keywords",
}


def categorize_from_seed(data: Any) -> Any:
    """A request body's `auto_categorize` as the seed has it (a category name, or null) is
    turned into today's pair (`auto_categorize` true with `category`, or false)."""
    if not isinstance(data, dict) or "auto_categorize" not in data:
        return data
    value = data["auto_categorize"]
    if value is None:
        return {**data, "auto_categorize": False}
    if isinstance(value, str):
        if data.get("category") not in (None, value):
            raise ValueError(
                f"auto_categorize names {value!r} but category is {data['category']!r}"
            )
        return {**data, "auto_categorize": True, "category": value}
    return data


def seed_output(row: Any) -> dict[str, Any]:
    """A stored filter under the seed's names (and `category`, kept for today's clients)."""
    names = (
        "id name description is_active priority keywords min_likes min_engagement_rate "
        "auto_approve auto_feature category created_at updated_at"
    ).split()
    out = {name: getattr(row, name) for name in names}
    for seed, column in SEED_LISTS.items():
        out[seed] = getattr(row, column)
    out["auto_categorize"] = row.category if row.auto_categorize else None
    return out
