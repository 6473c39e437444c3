"""The client reads Instagram's recorded responses (shared/fixtures) without losing fields.

The responses are served through httpx's MockTransport, so the whole client path runs:
URL building, JSON parsing, paging and error mapping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from instagram_service.instagram import (
    InstagramClient,
    InstagramError,
    MediaNotFound,
    PermissionDenied,
    RateLimiter,
    TokenInvalid,
    TransientError,
)
from instagram_service.instagram.errors import error_from_response
from instagram_service.instagram.usage import parse_usage_headers
from instagram_service.settings import Settings
from tests.support.fixtures import SHARED_FIXTURES

# shared/ sits beside the repository (here and in CI).
FIXTURES = SHARED_FIXTURES / "instagram-api"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not found")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


Router = Callable[[httpx.Request], tuple[int, Any]]


def make_client(route: Router, base: str = "https://graph.facebook.com") -> InstagramClient:
    def handler(request: httpx.Request) -> httpx.Response:
        status, body = route(request)
        return httpx.Response(status, json=body)

    settings = Settings(
        graph_base_url=base, app_id="1", app_secret="s", api_retry_base_s=0, redis_url=None
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return InstagramClient(settings, limiter=RateLimiter(), http=http)


async def test_media_pages_with_carousel_children() -> None:
    def route(request: httpx.Request) -> tuple[int, Any]:
        page = "medias_p2" if request.url.params.get("after") == "after" else "medias_p1"
        return 200, load(f"python-facebook/ig-user-media/{page}.json")

    client = make_client(route)
    pages = [p async for p in client.iter_media_pages("tok", "17841406338772941", limit=2)]
    assert [len(p.items) for p in pages] == [2, 2]
    assert pages[0].after == "after"
    assert pages[1].next_url is None
    first = pages[0].items[1]
    assert first.id == "17896622936197745"
    assert first.like_count == 2
    assert first.comments_count == 6
    assert first.timestamp == datetime(2021, 8, 13, 8, 2, 40, tzinfo=UTC)
    assert first.caption is None
    album = pages[1].items[0]
    assert album.is_carousel
    assert album.caption == "ALBUM"
    assert [c.media_type for c in album.children] == ["IMAGE", "IMAGE", "VIDEO"]
    video = album.children[2]
    assert video.thumbnail_url is not None
    assert video.image_url == video.thumbnail_url
    assert video.media_url is not None
    assert video.media_url.split("?")[0].endswith(".mp4")


async def test_instagram_login_pages_and_unicode_captions() -> None:
    def route(request: httpx.Request) -> tuple[int, Any]:
        page = "user_medias_p2" if request.url.params.get("after") else "user_medias_p1"
        return 200, load(f"python-facebook/graph-instagram-com/{page}.json")

    client = make_client(route, base="https://graph.instagram.com")
    pages = [p async for p in client.iter_media_pages("tok")]
    items = [m for p in pages for m in p.items]
    assert [m.id for m in items] == [
        "17846368219941692", "18091893643133286", "17896189813249754", "17970645226046242",
    ]  # fmt: skip
    assert items[0].caption == "Cute.. #cute #loveyou  @ikroskun"
    assert items[2].caption == "#日出 #华山 @onesight.cn"
    assert items[0].username == "ikroskun"
    assert items[0].like_count is None  # not requested in that recording: tolerated


async def test_reels_unknown_fields_and_cursors_without_next() -> None:
    body = load("airbyte/ig-user-media/media_reels_feed_carousel.json")
    client = make_client(lambda request: (200, body))
    pages = [p async for p in client.iter_media_pages("tok")]
    assert len(pages) == 1
    assert pages[0].next_url is None
    reel, feed_video, _, album, image = pages[0].items
    assert reel.is_reel
    assert reel.is_video
    assert reel.thumbnail_url == "https://fakecontent.cdninstagram.com/v/somepath/"
    assert feed_video.media_product_type == "FEED"
    assert [c.id for c in album.children][:2] == ["07608776690540123", "52896800415362123"]
    assert album.children[0].media_type is None
    assert image.like_count == 52


async def test_single_media_and_children_edge() -> None:
    def route(request: httpx.Request) -> tuple[int, Any]:
        if request.url.path.endswith("/children"):
            return 200, load("python-facebook/ig-media/children.json")
        return 200, load("python-facebook/ig-media/media_carousel_default.json")

    client = make_client(route)
    media = await client.get_media("tok", "17896129349106152")
    assert media.id == "17896129349106152"
    assert len(media.children) == 3
    assert media.timestamp == datetime(2021, 7, 26, 10, 45, 20, tzinfo=UTC)
    children = await client.get_children("tok", "17896129349106152")
    assert [c.id for c in children] == ["17924318443748703", "18248754847048313"]
    assert children[0].shortcode == "CSwAtwOBwh-"


async def test_full_field_media_and_graph_instagram_carousel() -> None:
    bodies = iter(
        [
            load("python-facebook/ig-media/ig_media_full_fields.json"),
            load("python-facebook/graph-instagram-com/media_info_carousel.json"),
        ]
    )
    client = make_client(lambda request: (200, next(bodies)))
    full = await client.get_media("tok", "17896129349106152")
    assert full.username == "ikroskun"
    assert full.is_comment_enabled is True
    assert full.shortcode == "CRyZpmrjYC4"
    small = await client.get_media("tok", "18027939643230671")
    assert small.caption == "Pycon China  @ikroskun"
    assert small.children == []


async def test_users_flat_wrapped_and_numeric_ids() -> None:
    bodies = iter(
        [
            load("python-facebook/graph-instagram-com/user_info.json"),
            {"data": [load("python-facebook/ig-user/ig_user_full.json")]},
            {"user_id": 17841400000000999, "id": "26000000000000999", "username": "n"},
        ]
    )
    client = make_client(lambda request: (200, next(bodies)))
    me = await client.get_me("tok")
    assert me.id == me.user_id == "17841406338772941"
    assert me.account_type == "BUSINESS"
    assert me.media_count == 10
    full = await client.get_me("tok")
    assert full.followers_count == 64361
    assert full.biography is not None
    assert full.biography.startswith("Follow us for updates on Facebook’s")
    numeric = await client.get_me("tok")
    assert numeric.user_id == "17841400000000999"
    assert numeric.id == "26000000000000999"


async def test_tokens() -> None:
    bodies = iter(
        [
            load("python-facebook/tokens/short_lived_user_token.json"),
            load("python-facebook/tokens/long_lived_token_exchange_or_refresh.json"),
            load("python-facebook/tokens/long_lived_token_exchange_or_refresh.json"),
        ]
    )
    seen: list[httpx.Request] = []

    def route(request: httpx.Request) -> tuple[int, Any]:
        seen.append(request)
        return 200, next(bodies)

    client = make_client(route)
    short = await client.exchange_code("abc#_", "https://example.com/cb")
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert seen[0].method == "POST"
    assert form == {
        "client_id": "1", "client_secret": "s", "grant_type": "authorization_code",
        "redirect_uri": "https://example.com/cb", "code": "abc",
    }  # fmt: skip
    assert short.user_id == "user_id"
    assert short.access_token == "token"
    long = await client.exchange_token(short.access_token)
    assert long.expires_in == 5184000
    assert long.token_type == "bearer"
    refreshed = await client.refresh_token(long.access_token)
    assert refreshed.access_token == "token"
    assert "'token'" not in repr(refreshed)
    assert seen[1].url.path == "/access_token"
    assert seen[1].url.params["grant_type"] == "ig_exchange_token"
    assert seen[2].method == "GET"
    assert seen[2].url.params["grant_type"] == "ig_refresh_token"


@pytest.mark.parametrize(
    ("name", "object_call", "cls", "code", "subcode", "trace"),
    [
        ("restfb/errors/code190_subcode460_shape.json", False, TokenInvalid, 190, 460,
         "EJplcsCHuLu"),
        ("restfb/errors/code1_subcode_is_transient_user_msg.json", False, TransientError, 1,
         1446036, "AXNSTEPpjX5zEG-g80nQydI"),
        ("restfb/errors/igapiexception_2500_unknown_path.json", False, InstagramError, 2500,
         None, "A7OjVVCXwSdfpIERKqntSKo"),
        ("airbyte/errors/code10_no_permission.json", False, PermissionDenied, 10, None,
         "fake_trace_id"),
        ("airbyte/errors/code100_subcode33_unsupported_get.json", True, MediaNotFound, 100, 33,
         "fake_trace_id"),
        ("python-facebook/errors/code100_object_not_exist_permission.json", False,
         InstagramError, 100, None, "AQt_hJ68vFybS4TnupatNtX"),
        ("python-facebook/errors/code100_app_secret_proof.json", False, InstagramError, 100,
         None, "A1m6KK6iBqvjzPeQd4DYbKM"),
    ],
)  # fmt: skip
def test_error_bodies(
    name: str, object_call: bool, cls: type, code: int, subcode: int | None, trace: str
) -> None:
    body = load(name)
    err = error_from_response("GET /x", 400, body, object_call=object_call)
    assert type(err) is cls
    assert err.code == code
    assert err.subcode == subcode
    assert err.fbtrace_id == trace
    assert "GET /x" in str(err)
    assert body["error"]["message"] in str(err)
    assert trace in str(err)


def test_token_invalid_reason() -> None:
    err = error_from_response("GET /me", 400, load("restfb/errors/code190_subcode460_shape.json"))
    assert isinstance(err, TokenInvalid)
    assert err.reason == "password changed"


async def test_error_through_client_maps_media_not_found() -> None:
    body = load("airbyte/errors/code100_subcode33_unsupported_get.json")
    client = make_client(lambda request: (400, body))
    with pytest.raises(MediaNotFound) as caught:
        await client.get_media("tok", "test_id_3")
    assert caught.value.call == "GET /test_id_3"
    assert caught.value.http_status == 400


def test_oauth_error_shape() -> None:
    body = {"error_type": "OAuthException", "code": 400, "error_message": "Invalid code"}
    err = error_from_response("POST /oauth/access_token", 400, body)
    assert type(err) is InstagramError
    assert err.code == 400
    assert "Invalid code" in str(err)


def test_rate_limit_headers() -> None:
    headers = load("derived/rate_limit_headers.json")
    samples = headers["python_facebook_tests_test_ratelimit_py"]
    assert parse_usage_headers({"X-App-Usage": samples["x-app-usage_high"]}) == (91.0, None)
    assert parse_usage_headers({"x-app-usage": samples["x-app-usage_low"]}) == (16.0, None)
    buc = {"X-Business-Use-Case-Usage": samples["x-business-use-case-usage"]}
    assert parse_usage_headers(buc) == (1.0, None)
    real = headers["restfb_batch_first_error_json_real_headers"]
    assert parse_usage_headers({"X-App-Usage": real["X-App-Usage"]}) == (2.0, None)
    throttled = {"X-Business-Use-Case-Usage": json.dumps(
        {"1": [{"type": "instagram", "call_count": 95, "total_cputime": 20, "total_time": 30,
                "estimated_time_to_regain_access": 12}]}
    )}  # fmt: skip
    assert parse_usage_headers(throttled) == (95.0, 720.0)
