"""Hashtags and mentions from a caption, as the seed keeps them: lower-cased, '#'/'@' kept."""

from __future__ import annotations

import re
import unicodedata

# \w covers letters and digits of every script but not combining marks (Devanagari vowel
# signs, for example), which belong inside a hashtag: they are added to the class.
_MARKS = "".join(
    chr(c) for c in range(0x300, 0x1E000) if unicodedata.category(chr(c)) in ("Mn", "Mc")
)
_WORD = f"[\\w{re.escape(_MARKS)}]"
_HASHTAG = re.compile(f"(?<![\\w#])#({_WORD}+)")
_MENTION = re.compile(r"(?<![\w@])@([\w](?:[\w.]*\w)?)")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def extract_hashtags(caption: str | None) -> list[str]:
    if not caption:
        return []
    return _unique([f"#{tag.lower()}" for tag in _HASHTAG.findall(caption)])


def extract_mentions(caption: str | None) -> list[str]:
    if not caption:
        return []
    return _unique([f"@{name.lower()}" for name in _MENTION.findall(caption)])
