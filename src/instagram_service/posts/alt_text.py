"""Alt text for every image: the stored one (Instagram's, or the admin's override), else a
fallback made from the caption, flagged as generated so the admin sees which need a person."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s|\n")
_TAGS = re.compile(r"(?:^|\s)[#@][\w.]+")
MAX_CAPTION_CHARS = 120


def first_sentence(caption: str | None) -> str:
    """The caption's first sentence without its hashtags and mentions, shortened on a word."""
    text = _TAGS.sub(" ", caption or "")
    text = " ".join(_SENTENCE_END.split(text.strip(), maxsplit=1)[0].split())
    if len(text) > MAX_CAPTION_CHARS:
        text = text[:MAX_CAPTION_CHARS].rsplit(" ", 1)[0] + "…"
    return text


def generated_alt(
    media_type: str,
    username: str | None,
    caption: str | None,
    *,
    position: int | None = None,
    count: int | None = None,
) -> str:
    """ "Photo by @studio: <first sentence>"; a carousel child adds "image 2 of 5"."""
    kind = "Video" if media_type == "VIDEO" else "Photo"
    who = f" by @{username}" if username else ""
    where = f", image {position + 1} of {count}" if position is not None and count else ""
    sentence = first_sentence(caption)
    return f"{kind}{who}{where}: {sentence}" if sentence else f"{kind}{who}{where}"
