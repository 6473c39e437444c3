"""Videos in the public shape, served with range requests and long caching."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Data, Keys


async def videos(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items = (await client.get("/api/v1/gallery", params={"limit": 100})).json()["items"]
    images = [i["image"] for i in items] + [c for i in items for c in i["children"]]
    return [image for image in images if image and image["video"]]


async def test_videos_are_in_the_shape_and_served_in_ranges(
    client: httpx.AsyncClient, data: Data
) -> None:
    found = await videos(client)
    assert found, "the scenario has reels and album videos, downloaded by default"
    for image in found:
        video = image["video"]
        assert image["media_type"] == "VIDEO"
        assert video["url"].startswith("http://testserver/images/")
        assert video["url"].split("?")[0].endswith("/video")
        assert video["poster"] == image["urls"]
    url = found[0]["video"]["url"]
    whole = await client.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
    part = await client.get(url, headers={"Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == whole.content[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(whole.content)}"
    beyond = await client.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416


async def test_accounts_show_their_video_opt_out(
    client: httpx.AsyncClient, keys: Keys, data: Data
) -> None:
    account_id = next(iter(data.accounts.values()))
    url = f"/api/v1/accounts/{account_id}"
    assert (await client.get(url, headers=keys.read)).json()["download_videos"] is True
    changed = await client.patch(url, json={"download_videos": False}, headers=keys.admin)
    assert changed.json()["download_videos"] is False
    await client.patch(url, json={"download_videos": True}, headers=keys.admin)
