"""Every image URL the gallery lists answers with the image's bytes, never an empty body.

With `IGS_MEDIA_ACCEL_REDIRECT_PREFIX` set but no nginx in front (the old Kubernetes ConfigMap),
the image routes used to answer 200, an empty body and `immutable`: browsers then kept an empty
image for a year. Only a request that nginx marks (X-Sendfile-Type) now gets the redirect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from tests.emulated import emulated_settings
from tests.webhooks.support import drain, running_app

NGINX_MARK = {"X-Sendfile-Type": "X-Accel-Redirect"}


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 6, seed=15)) as handle:
        yield handle


def _image_urls(items: list[dict[str, Any]]) -> list[str]:
    images = [item["image"] for item in items if item.get("image")]
    images += [c.get("image") for item in items for c in item.get("children") or []]
    return [url for image in images if image for url in image["urls"].values()]


async def test_no_image_response_has_an_empty_body(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    settings = emulated_settings(
        emulator,
        clean_db,
        tmp_path,
        image_workers=1,
        embedded_scheduler=False,
        media_accel_redirect_prefix="/protected-media/",
    )
    token = emulator.state.scenario.accounts[0].tokens[0].token
    async with running_app(settings, clean_db) as env:
        added = await env.http.post(
            "/api/v1/accounts", json={"access_token": token}, headers=env.admin
        )
        assert added.status_code == 201, added.text
        trigger = {"account": added.json()["username"], "type": "FULL"}
        started = await env.http.post("/api/v1/sync/trigger", json=trigger, headers=env.admin)
        assert started.status_code == 202
        await drain()
        urls = _image_urls((await env.http.get("/api/v1/gallery")).json()["items"])
        assert len(urls) >= 6

        for url in urls:  # straight to the API, as a browser or a CDN without nginx would
            served = await env.http.get(url)
            assert served.status_code == 200, url
            assert served.content, f"empty body for {url}"
            assert "x-accel-redirect" not in served.headers
            assert served.headers["content-type"].startswith("image/")
            assert len(served.headers.get_list("cache-control")) == 1

        media_root = settings.media_root
        for url in urls:  # through nginx: the redirect names a real, non-empty file
            redirected = await env.http.get(url, headers=NGINX_MARK)
            assert redirected.status_code == 200
            target = redirected.headers["x-accel-redirect"]
            assert target.startswith("/protected-media/")
            file = media_root / target.removeprefix("/protected-media/")
            assert file.is_file()
            assert file.stat().st_size > 0
            assert redirected.content == b""  # nginx replaces it with the file
