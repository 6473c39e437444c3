"""Scenarios: JSON round trip, the shipped demo, fast deterministic generation."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from instagram_service.emulator import (
    EmulatorState,
    Scenario,
    build_demo_scenario,
    generate_scenario,
)
from instagram_service.emulator.generate import load_scenario


def test_json_round_trip(tmp_path: Path) -> None:
    scenario = generate_scenario(2, 40, seed=3)
    scenario.faults.fail_next = 2
    scenario.webhook_url = "http://127.0.0.1:1/hook"
    path = tmp_path / "s.json"
    path.write_text(scenario.to_json(), encoding="utf-8")
    assert load_scenario(str(path)) == scenario
    assert Scenario.from_json(scenario.to_json()) == scenario


def test_the_shipped_demo_is_the_built_one() -> None:
    assert load_scenario("demo") == build_demo_scenario()


def test_demo_has_every_kind() -> None:
    demo = load_scenario("demo")
    media = [m for a in demo.accounts for m in a.media]
    feed = [m for m in media if m.media_product_type in ("FEED", "REELS")]
    assert len(demo.accounts) == 2
    assert len(feed) >= 60
    kinds = Counter((m.media_type, m.media_product_type) for m in feed)
    assert set(kinds) == {("IMAGE", "FEED"), ("VIDEO", "FEED"), ("VIDEO", "REELS"),
                          ("CAROUSEL_ALBUM", "FEED")}  # fmt: skip
    assert any(m.media_url_withheld for m in feed)
    assert any(m.like_count is None for m in feed)
    assert any(m.caption is None for m in feed)
    assert any(c.media_type == "VIDEO" for m in feed for c in m.children)
    captions = " ".join(m.caption or "" for m in feed)
    for needle in ("#", "@", "✨", "Before", "Tutorial", "é"):
        assert needle in captions
    sizes = {(m.width, m.height) for m in feed}
    assert {(1080, 1080), (1080, 1350), (1080, 1920), (1080, 566)} <= sizes


def test_generation_is_fast_and_deterministic() -> None:
    started = time.perf_counter()
    big = generate_scenario(1, 5000, seed=1)
    state = EmulatorState(big)
    assert time.perf_counter() - started < 1.5  # about 0.2 s
    assert len(state.account_media(big.accounts[0].user_id)[0]) == 5000
    assert generate_scenario(2, 30, seed=9) == generate_scenario(2, 30, seed=9)
    assert generate_scenario(2, 30, seed=9) != generate_scenario(2, 30, seed=10)
    ids = [m.id for a in generate_scenario(3, 200).accounts for m in a.media]
    assert len(ids) == len(set(ids))


def test_generated_spec() -> None:
    scenario = load_scenario("generated:50:3")
    assert [len(a.media) for a in scenario.accounts] == [50, 50, 50]
    assert len(load_scenario("generated:10").accounts) == 1
