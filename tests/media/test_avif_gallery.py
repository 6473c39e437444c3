"""With AVIF on, the gallery lists the AVIF variants beside WebP and serves them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.media.imaging import avif_supported
from tests.support.emulated import emulated_settings
from tests.support.webhooks import drain, running_app

pytestmark = pytest.mark.skipif(not avif_supported(), reason="Pillow without AVIF")


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 4, seed=12)) as handle:
        yield handle


async def test_avif_variants_are_listed_and_served(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> None:
    settings = emulated_settings(
        emulator, clean_db, tmp_path, avif_enabled=True, image_workers=1, embedded_scheduler=False
    )
    token = emulator.state.scenario.accounts[0].tokens[0].token
    async with running_app(settings, clean_db) as env:
        added = await env.http.post(
            "/api/v1/accounts", json={"access_token": token}, headers=env.admin
        )
        assert added.status_code == 201, added.text
        trigger = {"account": added.json()["username"], "type": "FULL"}
        assert (
            await env.http.post("/api/v1/sync/trigger", json=trigger, headers=env.admin)
        ).status_code == 202
        await drain()
        items = (await env.http.get("/api/v1/gallery")).json()["items"]
        assert items
        image = items[0]["image"] or items[0]["children"][0]["image"]
        assert image["srcset_avif"].count("w, ") == 2  # three boxes, like the WebP srcset
        assert {"thumbnail.avif", "optimized.avif", "large.avif"} <= set(image["urls"])
        served = await env.http.get(image["urls"]["optimized.avif"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/avif"
        assert served.content[4:12] == b"ftypavif"
