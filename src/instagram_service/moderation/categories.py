"""Gallery categories and the default keyword map used when no rule categorises a post."""

from __future__ import annotations

from typing import Literal

Category = Literal["before_after", "portfolio", "tutorial", "product", "personal", "general"]
CATEGORIES: tuple[Category, ...] = (
    "before_after",
    "portfolio",
    "tutorial",
    "product",
    "personal",
    "general",
)

# Tried in this order, the first category with a keyword in the caption wins: the more
# specific categories first, since a tutorial often also mentions a product or a client.
DEFAULT_KEYWORD_MAP: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        "before_after",
        (
            "before and after",
            "before after",
            "before",
            "after",
            "beforeandafter",
            "beforeafter",
            "transformation",
            "makeover",
            "glow up",
            "glowup",
            "then and now",
            "results",
        ),
    ),
    (
        "tutorial",
        (
            "how to",
            "howto",
            "tutorial",
            "tutorials",
            "tips",
            "tip",
            "step by step",
            "step",
            "steps",
            "guide",
            "learn",
            "diy",
            "hack",
            "hacks",
            "routine",
        ),
    ),
    (
        "product",
        (
            "shop",
            "buy",
            "product",
            "products",
            "available",
            "price",
            "sale",
            "discount",
            "in stock",
            "new arrival",
            "order",
            "link in bio",
            "giveaway",
        ),
    ),
    (
        "portfolio",
        (
            "portfolio",
            "work",
            "recent work",
            "client",
            "clients",
            "look",
            "style",
            "balayage",
            "bridal",
            "wedding",
            "editorial",
            "photoshoot",
            "commission",
        ),
    ),
    (
        "personal",
        (
            "me",
            "my",
            "team",
            "birthday",
            "anniversary",
            "behind the scenes",
            "bts",
            "selfie",
            "family",
            "holiday",
            "vacation",
            "thank you",
            "grateful",
            "day off",
        ),
    ),
)
