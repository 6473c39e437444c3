"""Case- and accent-insensitive matching of words, phrases and hashtags.

Text is folded (case folded, compatibility-decomposed, combining marks dropped) and cut
into words: runs of letters, digits, "_" and marks. Scripts written without spaces (Han,
kana) give one word per character, and each emoji or other symbol is a word of its own,
so that keywords in those scripts or made of emoji match too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Separator of segments in a haystack: never part of a word, so phrases cannot span it.
_SEGMENT = " | "


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped)


def _is_unspaced(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x2FFFF  # CJK extensions B and later
    )


def _is_symbol(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk")


def _is_word_char(ch: str) -> bool:
    # The middle dot is inside Catalan words (col·lecció), and what Ŀ decomposes to.
    return ch.isalnum() or ch in "_\u00b7" or unicodedata.category(ch).startswith("M")


def _tokens(folded: str) -> Iterator[str]:
    start: int | None = None
    for index, ch in enumerate(folded):
        if _is_word_char(ch) and not _is_unspaced(ch):
            if start is None:
                start = index
            continue
        if start is not None:
            yield folded[start:index]
            start = None
        if _is_unspaced(ch) or _is_symbol(ch):
            yield ch
    if start is not None:
        yield folded[start:]


def words(text: str | None) -> list[str]:
    return list(_tokens(fold(text))) if text else []


def phrase(keyword: str) -> str:
    """The needle for `Haystack.contains`; empty when the keyword has no words."""
    tokens = words(keyword)
    return f" {' '.join(tokens)} " if tokens else ""


@dataclass(frozen=True)
class Haystack:
    """Words of one or more texts, searched for whole words and phrases."""

    text: str

    @classmethod
    def of(cls, *texts: str | None) -> Haystack:
        segments = (" ".join(words(text)) for text in texts if text)
        return cls(f" {_SEGMENT.join(segments)} ")

    def contains(self, needle: str) -> bool:
        return bool(needle) and needle in self.text

    def first(self, keywords: Iterable[tuple[str, str]]) -> str | None:
        """The first (keyword, needle) pair found, by its keyword."""
        return next((kw for kw, needle in keywords if self.contains(needle)), None)


def clean_hashtag(raw: str) -> str:
    """A rule's hashtag as stored: '#' kept, lower-cased, composed; ValueError if not a tag."""
    body = unicodedata.normalize("NFC", raw.strip()).lstrip("#").casefold()
    if not body or not all(_is_word_char(ch) for ch in body):
        raise ValueError(f"{raw!r} is not a hashtag: use letters, digits and _ only")
    return f"#{body}"


def hashtag_key(tag: str) -> str:
    """The folded form hashtags are compared in: '#café', '#Cafe' and 'cafe' are equal."""
    return f"#{fold(tag.strip().lstrip('#'))}"


def caption_hashtags(caption: str | None) -> set[str]:
    """Folded hashtags of a caption, marks included (Devanagari vowel signs and the like)."""
    if not caption:
        return set()
    folded = fold(caption)
    found: set[str] = set()
    index = 0
    while (index := folded.find("#", index)) != -1:
        end = index + 1
        while end < len(folded) and _is_word_char(folded[end]):
            end += 1
        before = folded[index - 1] if index else " "
        if end > index + 1 and not _is_word_char(before) and before != "#":
            found.add(folded[index:end])
        index = end
    return found
