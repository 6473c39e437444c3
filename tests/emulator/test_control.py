"""The control API (/_emulator/...) and signed webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from instagram_service.emulator import EmulatorHandle, Scenario, running_emulator
from instagram_service.emulator.generate import load_scenario
from instagram_service.emulator.server import serve_in_thread
from instagram_service.emulator.webhooks import sign
from tests.emulator.conftest import DEMO_TOKEN, DEMO_USER

# shared/ sits beside the repository (here and in CI).
VECTORS = (
    Path(__file__).resolve().parents[3]
    / "shared/fixtures/webhooks/derived/x_hub_signature_256_vectors.json"
)


class Receiver:
    """A callback endpoint that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def endpoint(self, request: Request) -> PlainTextResponse:
        self.received.append((await request.body(), dict(request.headers)))
        return PlainTextResponse("ok")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    keeper = Receiver()
    app = Starlette(routes=[Route("/hook", keeper.endpoint, methods=["POST"])])
    with serve_in_thread(app) as base:
        yield keeper, f"{base}/hook"


def test_signature_known_answer() -> None:
    if not VECTORS.exists():
        pytest.skip("shared fixtures not found")
    vector = json.loads(VECTORS.read_text())["known_answer_github_docs"]
    assert sign(vector["body_utf8"].encode(), vector["secret"]) == vector["x_hub_signature_256"]


async def test_comment_webhook_is_signed(
    emu: EmulatorHandle, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    keeper, url = receiver
    body = {"callback_url": url, "user_id": DEMO_USER, "field": "comments",
            "media_id": "17900001010000001", "text": "Love it 😍"}  # fmt: skip
    response = await http.post("/_emulator/webhook", json=body)
    assert response.json()["status_code"] == 200
    raw, headers = keeper.received[0]
    secret = emu.state.scenario.app_secret.encode()
    expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == expected
    assert headers["content-type"] == "application/json"
    event = json.loads(raw)
    assert event["object"] == "instagram"
    entry = event["entry"][0]
    assert entry["id"] == DEMO_USER
    assert isinstance(entry["time"], int)
    change = entry["changes"][0]
    assert change["field"] == "comments"
    assert change["value"]["media"] == {"id": "17900001010000001", "media_product_type": "FEED"}
    assert change["value"]["text"] == "Love it 😍"
    assert set(change["value"]) >= {"id", "from", "text", "media"}


async def test_media_changes_through_the_control_api(
    http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    keeper, url = receiver
    scenario = load_scenario("demo")
    scenario.webhook_url = url
    with running_emulator(scenario) as emu:
        async with httpx.AsyncClient(base_url=emu.base_url) as client:
            params = {"access_token": DEMO_TOKEN, "fields": "id,caption,like_count", "limit": 1}
            created = await client.post("/_emulator/media", json={
                "user_id": DEMO_USER, "caption": "Fresh from the chair ✨ #new",
                "media_type": "IMAGE", "like_count": 3,
            })  # fmt: skip
            assert created.status_code == 201
            new_id = created.json()["id"]
            newest = (await client.get("/me/media", params=params)).json()["data"][0]
            assert newest == {"id": new_id, "caption": "Fresh from the chair ✨ #new",
                              "like_count": 3}  # fmt: skip
            edited = await client.patch(
                f"/_emulator/media/{new_id}", json={"caption": "Edited", "like_count": None}
            )
            assert edited.status_code == 200
            newest = (await client.get("/me/media", params=params)).json()["data"][0]
            assert newest == {"id": new_id, "caption": "Edited"}
            assert (await client.delete(f"/_emulator/media/{new_id}")).status_code == 204
            gone = await client.get(f"/{new_id}", params={"access_token": DEMO_TOKEN})
            assert gone.json()["error"]["code"] == 100
            assert (await client.delete(f"/_emulator/media/{new_id}")).status_code == 404
            bad = await client.post("/_emulator/media", json={"caption": "no user"})
            assert bad.status_code == 400
    verbs = [e["entry"][0]["changes"][0]["value"]["verb"] for e in keeper.events()]
    assert verbs == ["create", "update", "delete"]
    assert all(e["entry"][0]["changes"][0]["field"] == "media" for e in keeper.events())
    for raw, headers in keeper.received:
        assert headers["x-hub-signature-256"] == sign(raw, scenario.app_secret)


async def test_faults_stats_tokens_and_clock(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    faults = await http.post("/_emulator/faults", json={"fail_next": 1, "latency_s": 0.01})
    assert faults.json()["fail_next"] == 1
    assert (await http.get("/me", params={"access_token": DEMO_TOKEN})).status_code == 500
    assert (await http.get("/_emulator/faults")).json()["fail_next"] == 0
    assert (await http.delete("/_emulator/faults")).json()["latency_s"] == 0
    assert (await http.post("/_emulator/faults", json={"error_rate": 7})).status_code == 400
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["calls"] == {DEMO_USER: 1}
    assert stats["calls_by_path"] == {"me": 1}
    assert (await http.post("/_emulator/stats")).json()["total_calls"] == 0
    issued = await http.post("/_emulator/tokens", json={"user_id": DEMO_USER, "age_s": 90000})
    token = issued.json()["access_token"]
    refreshed = await http.get(
        "/refresh_access_token", params={"grant_type": "ig_refresh_token", "access_token": token}
    )
    assert refreshed.status_code == 200
    revoke = await http.post("/_emulator/tokens/revoke", json={"token": token})
    assert revoke.status_code == 204
    dead = await http.get("/me", params={"access_token": token})
    assert dead.json()["error"]["error_subcode"] == 458
    moved = await http.post("/_emulator/clock", json={"advance_s": 0})
    assert moved.json()["offset_s"] == emu.state.time_offset_s
    scenario = Scenario.from_json((await http.get("/_emulator/scenario")).content)
    assert scenario.accounts[0].user_id == DEMO_USER
