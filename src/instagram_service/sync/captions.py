"""Hashtags and mentions from a caption, as the seed keeps them: lower-cased, '#'/'@' kept."""

from __future__ import annotations

import re

# \w is unicode-aware in Python: letters and digits of every script, plus "_".
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@([\w](?:[\w.]*\w)?)")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def extract_hashtags(caption: str | None) -> list[str]:
    if not caption:
        return []
    return _unique([f"#{tag.casefold()}" for tag in _HASHTAG.findall(caption)])


def extract_mentions(caption: str | None) -> list[str]:
    if not caption:
        return []
    return _unique([f"@{name.casefold()}" for name in _MENTION.findall(caption)])
