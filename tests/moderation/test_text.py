from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instagram_service.moderation.text import (
    Haystack,
    caption_hashtags,
    clean_hashtag,
    fold,
    hashtag_key,
    phrase,
    words,
)


def has(text: str | None, keyword: str) -> bool:
    return Haystack.of(text).contains(phrase(keyword))


def test_fold_drops_case_and_accents() -> None:
    assert fold("Café CRÈME Ñandú") == "cafe creme nandu"


def test_words_split_on_punctuation_and_keep_underscore() -> None:
    assert words("Hello, world! hair_color #Balayage") == [
        "hello",
        "world",
        "hair_color",
        "balayage",
    ]


def test_words_of_a_missing_caption_are_empty() -> None:
    assert words(None) == []


def test_han_and_kana_are_one_word_per_character() -> None:
    assert words("東京カフェ") == ["東", "京", "カ", "フ", "ェ"]


def test_emoji_are_words_of_their_own() -> None:
    assert words("nails💅done") == ["nails", "💅", "done"]


@pytest.mark.parametrize(
    ("text", "keyword", "expected"),
    [
        ("a party tonight", "art", False),
        ("my art is here", "art", True),
        ("ART.", "art", True),
        ("smart moves", "art", False),
        ("artist at work", "art", False),
        ("Café au lait", "cafe", True),
        ("cafe au lait", "café", True),
        ("CAFÉ", "Café", True),
        ("here is how to do it", "how to", True),
        ("how\nto do it", "how to", True),
        ("show to people", "how to", False),
        ("how tomorrow", "how to", False),
        ("Кофе и круассан", "кофе", True),
        ("кофейня", "кофе", False),
        ("我爱东京的咖啡", "咖啡", True),
        ("hair 💇‍♀️ day", "💇‍♀️", True),
        ("hair 💇‍♂️ day", "💇‍♀️", False),
        ("don't stop", "don't", True),
        ("una col·lecció nova", "col·leccio", True),
        ("una col·lecció nova", "leccio", False),
        (None, "art", False),
        ("", "art", False),
    ],
)
def test_keyword_matching_on_words(text: str | None, keyword: str, expected: bool) -> None:
    assert has(text, keyword) is expected


def test_keyword_without_words_never_matches() -> None:
    assert not has("!!! ???", "!!!")


def test_phrases_do_not_span_segments() -> None:
    haystack = Haystack.of("learn how", "to braid")
    assert not haystack.contains(phrase("how to"))


def test_decomposed_and_composed_forms_are_equal() -> None:
    assert has(unicodedata.normalize("NFD", "Crème brûlée"), "creme brulee")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("#Balayage", "#balayage"),
        ("balayage", "#balayage"),
        (" #Café ", "#café"),
        ("#東京", "#東京"),
    ],
)
def test_clean_hashtag(raw: str, stored: str) -> None:
    assert clean_hashtag(raw) == stored


@pytest.mark.parametrize("raw", ["", "#", "two words", "#a-b", "💇"])
def test_clean_hashtag_rejects_non_tags(raw: str) -> None:
    with pytest.raises(ValueError, match="not a hashtag"):
        clean_hashtag(raw)


def test_hashtag_keys_are_folded() -> None:
    assert hashtag_key("#Café") == hashtag_key("cafe") == "#cafe"


def test_caption_hashtags_keep_marks_and_scripts() -> None:
    found = caption_hashtags("Hi #नमस्ते #Café #東京 #Кофе a#b ##x")
    assert found == {hashtag_key("#नमस्ते"), "#cafe", "#東京", "#кофе"}


def test_caption_hashtags_of_nothing() -> None:
    assert caption_hashtags(None) == set()


# Letters of a few scripts, without Han/kana (one word per character by design).
letters = st.characters(categories=("Ll", "Lu"), max_codepoint=0x04FF, exclude_characters="ıİ")
word = st.text(letters, min_size=1, max_size=8).filter(lambda w: len(words(w)) == 1)


@given(keyword=word, before=st.text(letters, max_size=5), after=st.text(letters, max_size=5))
def test_a_keyword_never_matches_inside_a_longer_word(
    keyword: str, before: str, after: str
) -> None:
    longer = before + keyword + after
    if fold(longer) != fold(keyword):
        assert not has(f"0 {longer}, 1", keyword)


@given(keyword=word, before=st.text(max_size=10), separator=st.sampled_from(" ,.!?\n#-"))
def test_a_keyword_matches_as_a_word_whatever_the_case(
    keyword: str, before: str, separator: str
) -> None:
    assert has(f"{before} {separator}{keyword.upper()}{separator} end", keyword)
