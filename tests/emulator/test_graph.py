"""The emulated Graph API: fields, versions, cursors, since/until, usage headers, errors."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from instagram_service.emulator import EmulatorHandle
from tests.emulator.conftest import DEMO_TOKEN, DEMO_USER


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    return await http.get(path, params={"access_token": DEMO_TOKEN, **params})


@pytest.mark.parametrize("prefix", ["", "/v25.0", "/v1.0", "/v99.9"])
async def test_version_prefixes(http: httpx.AsyncClient, prefix: str) -> None:
    response = await get(http, f"{prefix}/me", fields="user_id,username")
    assert response.status_code == 200
    assert response.json() == {
        "user_id": DEMO_USER, "username": "maison.lumiere.salon", "id": "26000000000000101",
    }  # fmt: skip


async def test_only_id_without_fields(http: httpx.AsyncClient) -> None:
    body = (await get(http, "/v25.0/me/media", limit=3)).json()
    assert [set(item) for item in body["data"]] == [{"id"}] * 3
    assert set(body["paging"]) == {"cursors", "next"}


async def test_fields_and_children_expansion(http: httpx.AsyncClient) -> None:
    fields = "id,caption,media_type,like_count,children{id,media_type,media_url,thumbnail_url}"
    body = (await get(http, "/me/media", fields=fields, limit=100)).json()
    album = next(i for i in body["data"] if i["media_type"] == "CAROUSEL_ALBUM")
    children = album["children"]["data"]
    assert len(children) >= 2
    assert all(set(c) <= {"id", "media_type", "media_url", "thumbnail_url"} for c in children)
    assert all("thumbnail_url" in c for c in children if c["media_type"] == "VIDEO")
    assert all("children" not in i for i in body["data"] if i["media_type"] != "CAROUSEL_ALBUM")
    assert any("like_count" not in i for i in body["data"])  # hidden counts are left out
    assert any("caption" not in i for i in body["data"])
    assert set(body["data"][0]) <= {"id", "caption", "media_type", "like_count", "children"}


async def test_reels_and_timestamps(http: httpx.AsyncClient) -> None:
    fields = "media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp"
    data = (await get(http, "/me/media", fields=fields, limit=100)).json()["data"]
    reels = [i for i in data if i["media_product_type"] == "REELS"]
    assert all(r["media_type"] == "VIDEO" and "thumbnail_url" in r for r in reels)
    assert any("media_url" not in r for r in reels)
    assert all("/reel/" in r["permalink"] for r in reels)
    assert all(i["timestamp"].endswith("+0000") for i in data)


async def test_unknown_field_is_an_error(http: httpx.AsyncClient) -> None:
    response = await get(http, "/me/media", fields="id,colour")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert "colour" in error["message"]
    assert error["fbtrace_id"]


async def test_cursors_next_and_previous(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    everything = [i["id"] for i in (await get(http, "/me/media", limit=100)).json()["data"]]
    first = (await get(http, "/me/media", limit=10)).json()
    after = first["paging"]["cursors"]["after"]
    assert after.startswith("QVFI")
    assert base64.urlsafe_b64decode(after + "==").startswith(b"AQH")
    assert "previous" not in first["paging"]
    second = (await http.get(first["paging"]["next"])).json()
    assert [i["id"] for i in second["data"]] == everything[10:20]
    back = (await http.get(second["paging"]["previous"])).json()
    assert [i["id"] for i in back["data"]] == everything[:10]
    ids, url = [], f"{emu.base_url}/me/media?access_token={DEMO_TOKEN}&limit=7"
    while url:
        page = (await http.get(url)).json()
        ids += [i["id"] for i in page["data"]]
        url = page["paging"].get("next")
    assert ids == everything


async def test_cursor_on_a_deleted_media(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    first = (await get(http, "/me/media", limit=5)).json()
    last_id = first["data"][-1]["id"]
    user_id, media = emu.state.media_owner(last_id) or ("", None)
    assert media is not None
    emu.state.delete_media(last_id)
    try:
        lenient = await http.get(first["paging"]["next"])
        assert lenient.status_code == 200
        emu.state.set_faults(strict_cursors=True)
        strict = await http.get(first["paging"]["next"])
        assert strict.status_code == 400
        assert strict.json()["error"]["code"] == 100
    finally:
        emu.state.add_media(user_id, media)


async def test_since_until(http: httpx.AsyncClient) -> None:
    data = (await get(http, "/me/media", fields="timestamp", limit=100)).json()["data"]
    stamps = [int(datetime.fromisoformat(i["timestamp"]).timestamp()) for i in data]
    since, until = stamps[20], stamps[5]
    window = (await get(http, "/me/media", since=since, until=until, limit=100)).json()["data"]
    assert [i["id"] for i in window] == [i["id"] for i in data[5:21]]


async def test_objects_and_ownership(http: httpx.AsyncClient) -> None:
    media_id = (await get(http, "/me/media", limit=1)).json()["data"][0]["id"]
    single = (await get(http, f"/v25.0/{media_id}", fields="id,permalink,owner")).json()
    assert single["owner"] == {"id": DEMO_USER}
    other = "17841400000000202"
    their_media = (
        await http.get("/me/media", params={"access_token": "IGAAdemoClayKilnLongLivedToken0002"})
    ).json()["data"][0]["id"]
    for path in (f"/{their_media}", f"/{their_media}/children", f"/{other}"):
        response = await get(http, path)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 100
    unknown = await get(http, "/me/insights/day")
    assert unknown.json()["error"]["code"] == 2500


async def test_facebook_login_pages(http: httpx.AsyncClient) -> None:
    body = (await get(http, "/me/accounts", fields="instagram_business_account")).json()
    assert body["data"][0]["instagram_business_account"] == {"id": DEMO_USER}


async def test_token_errors(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    missing = await http.get("/me")
    assert missing.json()["error"]["code"] == 2500
    unknown = await http.get("/me", params={"access_token": "nope"})
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["error_subcode"]) == (190, 467)
    expired = emu.state.issue_token(DEMO_USER, age_s=10, expires_in_s=5)
    body = (await http.get("/me", params={"access_token": expired})).json()["error"]
    assert (body["code"], body["error_subcode"], body["type"]) == (190, 463, "OAuthException")
    bearer = await http.get("/me", headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert bearer.status_code == 200


async def test_usage_headers_follow_the_budget(
    emu: EmulatorHandle, http: httpx.AsyncClient
) -> None:
    account = emu.state.accounts[DEMO_USER]
    budget = account.call_budget
    account.call_budget = 10
    try:
        for n in range(1, 11):
            response = await get(http, "/me")
            app = json.loads(response.headers["x-app-usage"])
            assert app["call_count"] == n * 10
        buc = json.loads(response.headers["x-business-use-case-usage"])
        assert buc[DEMO_USER][0]["type"] == "instagram"
        assert buc[DEMO_USER][0]["estimated_time_to_regain_access"] == 5
        over = await get(http, "/me")
        assert over.status_code == 400
        assert over.json()["error"]["code"] == 80002
        assert emu.state.stats()["calls"][DEMO_USER] == 11
    finally:
        account.call_budget = budget


async def test_injected_faults(emu: EmulatorHandle, http: httpx.AsyncClient) -> None:
    emu.state.set_faults(fail_next=1, error_http_status=502)
    failed = await get(http, "/me")
    assert failed.status_code == 502
    assert failed.json()["error"] == failed.json()["error"] | {"code": 2, "is_transient": True}
    assert (await get(http, "/me")).status_code == 200
    emu.state.set_faults(error_rate=1.0)
    assert (await get(http, "/me")).status_code == 502
    emu.state.set_faults(error_rate=0.0, usage_pct=100, rate_limit_code=4)
    limited = await get(http, "/me")
    assert limited.json()["error"]["code"] == 4
    assert "Application request limit" in limited.json()["error"]["message"]
