"""Alt text on every image: the stored one, else generated from the caption and flagged."""

from __future__ import annotations

import httpx

from instagram_service.posts.alt_text import first_sentence, generated_alt
from tests.api.conftest import Data


def test_generated_alt_text() -> None:
    caption = "New glaze, same bowl! Fired twice. #ceramics #handmade"
    assert generated_alt("IMAGE", "studio", caption) == "Photo by @studio: New glaze, same bowl!"
    assert generated_alt("VIDEO", "studio", "#only #tags") == "Video by @studio"
    assert generated_alt("IMAGE", None, None) == "Photo"
    child = generated_alt("IMAGE", "studio", "Look @friend\nmore", position=1, count=5)
    assert child == "Photo by @studio, image 2 of 5: Look"
    long = first_sentence("word " * 60)
    assert len(long) <= 121
    assert long.endswith("…")


async def test_every_public_image_has_alt_text(client: httpx.AsyncClient, data: Data) -> None:
    items = (await client.get("/api/v1/gallery", params={"limit": 100})).json()["items"]
    assert items
    for item in items:
        post = data.posts[item["id"]]
        assert item["alt_text"]
        assert item["alt_text_generated"] is (post.alt_text is None)
        if post.alt_text:
            assert item["alt_text"] == post.alt_text  # Instagram's (or the admin's) wins
        images = [item["image"], *item["children"]]
        assert all(image["alt_text"] for image in images)
        for index, child in enumerate(item["children"]):
            if child["alt_text_generated"]:
                assert f"image {index + 1} of {len(item['children'])}" in child["alt_text"]
