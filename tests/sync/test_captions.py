"""Hashtags and mentions from captions: lower-cased as the seed does, '#'/'@' kept, unicode."""

from __future__ import annotations

import pytest

from instagram_service.sync.captions import extract_hashtags, extract_mentions


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("Summer #Sale and #sale again #SALE", ["#sale"]),
        ("Bäckerei #Straße #Ünïcödé", ["#straße", "#ünïcödé"]),  # lower(), not casefold()
        ("日本 #東京 #カフェ", ["#東京", "#カフェ"]),
        ("नमस्ते #हिन्दी", ["#हिन्दी"]),  # vowel signs stay inside the tag
        ("no tags here, not in word#inside nor ##double", []),
        ("#a_b1 #c-d", ["#a_b1", "#c"]),
        (None, []),
        ("", []),
    ],
)
def test_hashtags(caption: str | None, tags: list[str]) -> None:
    assert extract_hashtags(caption) == tags


@pytest.mark.parametrize(
    ("caption", "names"),
    [
        ("Thanks @Studio.Example and @studio.example!", ["@studio.example"]),
        ("mail me at hello@example.com", []),
        ("@Ünï_cödé. ends a sentence", ["@ünï_cödé"]),
        (None, []),
    ],
)
def test_mentions(caption: str | None, names: list[str]) -> None:
    assert extract_mentions(caption) == names
