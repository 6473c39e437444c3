"""The emulated CDN: signed, expiring links to generated photo-like JPEGs."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from instagram_service.emulator import EmulatorHandle, running_emulator
from instagram_service.emulator.generate import load_scenario
from instagram_service.emulator.images import SIZES, render_jpeg
from tests.emulator.conftest import DEMO_TOKEN


async def media_urls(http: httpx.AsyncClient) -> list[str]:
    params = {"access_token": DEMO_TOKEN, "fields": "media_url,thumbnail_url", "limit": 100}
    data = (await http.get("/me/media", params=params)).json()["data"]
    return [i.get("thumbnail_url") or i["media_url"] for i in data]


@pytest.mark.parametrize("name", list(SIZES))
def test_generated_images_look_like_photos(name: str) -> None:
    width, height = SIZES[name]
    started = time.perf_counter()
    data = render_jpeg.__wrapped__(f"size-test-{name}", width, height)
    elapsed = time.perf_counter() - started
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert image.size == (width, height)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    assert pixels.std() > 20  # not a flat colour
    # Grain: neighbouring pixels differ, as in a photograph.
    assert np.abs(np.diff(pixels[:, :, 1], axis=1)).mean() > 2
    assert elapsed < 0.5  # about 30 ms; loose for a busy machine
    assert render_jpeg.__wrapped__(f"size-test-{name}", width, height) == data


async def test_cdn_serves_each_media_at_its_size(
    emu: EmulatorHandle, http: httpx.AsyncClient
) -> None:
    urls = await media_urls(http)
    for url in urls[:3]:
        response = await http.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        object_id = url.split("/")[-1].split("_")[0]  # a media, or a carousel's first child
        size = emu.state.image_size(object_id)
        assert size is not None
        assert Image.open(io.BytesIO(response.content)).size == size
    assert emu.state.stats()["cdn_requests"] == 3


async def test_links_expire_and_are_signed(http: httpx.AsyncClient) -> None:
    with running_emulator(load_scenario("demo")) as own:
        async with httpx.AsyncClient(base_url=own.base_url) as client:
            url = (await media_urls(client))[0]
            assert (await client.get(url)).status_code == 200
            # Links are valid for one to two lifetimes (stable within a lifetime bucket).
            own.state.advance_clock(2 * own.state.scenario.link_lifetime_s + 1)
            expired = await client.get(url)
            assert expired.status_code == 403
            assert expired.text == "URL signature expired"
            fresh = (await media_urls(client))[0]
            assert fresh != url
            assert (await client.get(fresh)).status_code == 200
    tampered = (await media_urls(http))[0].replace("&oe=", "&oe=F")
    assert (await http.get(tampered)).status_code == 403
    bad_sig = (await media_urls(http))[0].replace("oh=", "oh=0")
    response = await http.get(bad_sig)
    assert response.status_code == 403
    assert response.text == "Bad URL hash"


async def test_truncated_images(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    url = (await media_urls(http))[0]
    whole = (await http.get(url)).content
    emu.state.set_faults(truncate_images=True)
    cut = await http.get(url)
    assert cut.status_code == 200
    assert len(cut.content) == len(whole) // 2
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(cut.content)).load()


async def test_videos_and_avatars(http: httpx.AsyncClient) -> None:
    params = {"access_token": DEMO_TOKEN, "fields": "media_type,media_url", "limit": 100}
    data = (await http.get("/me/media", params=params)).json()["data"]
    video = next(i["media_url"] for i in data if i["media_type"] == "VIDEO" and "media_url" in i)
    response = await http.get(video)
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"
    me = (await http.get("/me", params={"access_token": DEMO_TOKEN,
                                        "fields": "profile_picture_url"})).json()  # fmt: skip
    avatar = await http.get(me["profile_picture_url"])
    assert Image.open(io.BytesIO(avatar.content)).size == (320, 320)
