"""Recorded responses (shared/fixtures) not covered elsewhere, read with our Pydantic schemas,
and through the client on an httpx MockTransport where a call shape applies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from instagram_service.instagram import InstagramClient, MediaNotFound, RateLimiter
from instagram_service.instagram.errors import InstagramError, error_from_response
from instagram_service.instagram.schemas import IGChild, IGMedia, IGUser
from instagram_service.settings import ApiFlavour, Settings
from tests.support.fixtures import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "instagram-api"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not found")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def mock_client(
    routes: dict[str, tuple[int, Any]], **settings: Any
) -> tuple[InstagramClient, list[httpx.Request]]:
    """Answers by the request path's last component(s); records every request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.split("/v25.0/", 1)[-1]
        status, body = routes[path]
        return httpx.Response(status, json=body)

    values: dict[str, Any] = {
        "graph_base_url": "https://graph.facebook.com",
        "api_retry_base_s": 0,
        "redis_url": None,
        **settings,
    }
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return InstagramClient(Settings(**values), limiter=RateLimiter(), http=http), seen


# --- python-facebook/graph-instagram-com/media_children.json ----------------------------------


def test_media_children_parse() -> None:
    body = load("python-facebook/graph-instagram-com/media_children.json")
    children = [IGChild.model_validate(item) for item in body["data"]]
    assert [c.id for c in children] == ["17895013408404508", "17875124200471097"]
    assert [c.media_type for c in children] == ["IMAGE", "IMAGE"]
    assert [c.permalink for c in children] == [
        "https://www.instagram.com/p/B38XyoFHM_T/",
        "https://www.instagram.com/p/B38XyoEnKK_/",
    ]
    first = children[0]
    assert first.media_url is not None
    assert first.media_url.startswith(
        "https://scontent.xx.fbcdn.net/v/t51.2885-15/75272169_186899105680947_"
    )
    assert "oe=5E86031C" in first.media_url
    assert first.image_url == first.media_url  # an image keeps its own URL
    assert not first.is_video
    assert (first.thumbnail_url, first.alt_text, first.timestamp) == (None, None, None)


async def test_media_children_through_the_client() -> None:
    body = load("python-facebook/graph-instagram-com/media_children.json")
    client, seen = mock_client({"17895000000000001/children": (200, body)})
    children = await client.get_children("tok", "17895000000000001")
    assert [c.id for c in children] == ["17895013408404508", "17875124200471097"]
    assert seen[0].url.params["fields"]  # asked for the child fields
    assert seen[0].url.params["access_token"] == "tok"


# --- python-facebook/ig-user/user_fields.json --------------------------------------------------


def test_user_fields_parse() -> None:
    user = IGUser.model_validate(load("python-facebook/ig-user/user_fields.json"))
    assert user.id == user.user_id == "17841407673135339"  # no user_id field: id stands in
    assert user.username == "facebookfordevelopers"
    assert user.name == "Facebook for Developers"
    assert user.biography == (
        "Follow us for updates on Facebook\u2019s business tools, AI, AR, VR, and more."
    )
    assert user.followers_count == 64363
    assert user.media_count == 427
    assert user.follows_count is None
    assert user.account_type is None
    assert user.website is None
    assert user.profile_picture_url is not None
    assert user.profile_picture_url.startswith("https://scontent-gmp1-1.xx.fbcdn.net/")
    assert "oe=6103DFA4" in user.profile_picture_url


# --- airbyte/accounts/me_accounts_instagram_business_account.json ------------------------------


def test_me_accounts_page_mapping() -> None:
    body = load("airbyte/accounts/me_accounts_instagram_business_account.json")
    (page,) = body["data"]
    assert page["id"] == "118981261308043"
    business = IGUser.model_validate(page["instagram_business_account"])
    assert business.id == business.user_id == "17841462785487205"
    assert business.username is None
    assert "next" not in body["paging"]
    assert body["paging"]["cursors"]["before"].startswith("QVFIUmFaZAU9")


async def test_facebook_login_reads_the_business_account_of_the_page() -> None:
    profile = {**load("python-facebook/ig-user/user_fields.json"), "id": "17841462785487205"}
    client, seen = mock_client(
        {
            "me/accounts": (
                200,
                load("airbyte/accounts/me_accounts_instagram_business_account.json"),
            ),
            "17841462785487205": (200, profile),
        },
        api_flavour=ApiFlavour.FACEBOOK_LOGIN,
    )
    user = await client.get_me("tok")
    assert user.user_id == "17841462785487205"
    assert user.username == "facebookfordevelopers"
    assert user.followers_count == 64363
    assert [r.url.path.rsplit("/v25.0/", 1)[-1] for r in seen] == [
        "me/accounts",
        "17841462785487205",
    ]
    assert seen[0].url.params["fields"] == "instagram_business_account"


async def test_facebook_login_without_a_business_account_fails_clearly() -> None:
    body = load("airbyte/accounts/me_accounts_instagram_business_account.json")
    body["data"][0].pop("instagram_business_account")
    client, _ = mock_client({"me/accounts": (200, body)}, api_flavour=ApiFlavour.FACEBOOK_LOGIN)
    with pytest.raises(InstagramError, match="no Page has an Instagram business account"):
        await client.get_me("tok")


# --- airbyte/ig-user-media/media_story_video.json ----------------------------------------------


def test_story_video_parse() -> None:
    body = load("airbyte/ig-user-media/media_story_video.json")
    (media,) = [IGMedia.model_validate(item) for item in body["data"]]
    assert media.id == "18026588782970000"
    assert (media.media_type, media.media_product_type) == ("VIDEO", "STORY")
    assert media.is_video
    assert not media.is_reel
    assert not media.is_carousel
    assert media.like_count == 0
    assert media.comments_count is None
    assert media.caption is None
    assert media.shortcode == "ERUY34867_3"
    assert media.username == "username"
    assert media.permalink == "https://placeholder.com/stories/username/some_id_value"
    assert media.timestamp == datetime(2024, 6, 17, 19, 39, 18, tzinfo=UTC)
    assert media.media_url == "https://fakecontent.cdninstagram.com/path1/path2/some_value"
    assert media.thumbnail_url == "https://content.cdnfaker.com/path1/path2/some_value"
    assert media.image_url == media.thumbnail_url  # a video keeps its cover
    assert media.children == []
    assert not hasattr(media, "owner")  # unknown fields (owner, ig_id) are dropped
    assert not hasattr(media, "ig_id")


async def test_story_video_page_through_the_client() -> None:
    body = load("airbyte/ig-user-media/media_story_video.json")
    client, _ = mock_client({"17841462785487205/media": (200, body)})
    pages = [p async for p in client.iter_media_pages("tok", "17841462785487205")]
    (page,) = pages  # no `next`: the only page
    assert [m.id for m in page.items] == ["18026588782970000"]
    assert page.next_url is None
    assert page.after is None  # only a `before` cursor


# --- airbyte/errors/code100_subcode2108006_posted_before_business.json -------------------------

POSTED_BEFORE = "airbyte/errors/code100_subcode2108006_posted_before_business.json"


def test_posted_before_business_error_mapping() -> None:
    body = load(POSTED_BEFORE)
    on_media = error_from_response("GET /18026588782970000/insights", 400, body, object_call=True)
    assert type(on_media) is MediaNotFound
    assert (on_media.code, on_media.subcode) == (100, 2108006)
    assert on_media.fbtrace_id == "AVul-nTRBqOlFGJxWKQv1g-"
    assert on_media.ig_message == "Invalid parameter"  # `message` wins over error_user_msg
    assert on_media.is_transient is False
    assert on_media.http_status == 400
    assert "subcode 2108006" in str(on_media)
    assert "fbtrace_id AVul-nTRBqOlFGJxWKQv1g-" in str(on_media)
    on_list = error_from_response("GET /me/media", 400, body)
    assert type(on_list) is InstagramError
    assert on_list.subcode == 2108006


def test_posted_before_business_user_message_is_used_without_message() -> None:
    body = load(POSTED_BEFORE)
    del body["error"]["message"]
    err = error_from_response("GET /1/insights", 400, body)
    assert err.ig_message.startswith("The media was posted before the most recent time")


async def test_posted_before_business_through_the_client() -> None:
    client, seen = mock_client({"18026588782970000": (400, load(POSTED_BEFORE))})
    with pytest.raises(MediaNotFound) as caught:
        await client.get_media("tok", "18026588782970000")
    assert caught.value.subcode == 2108006
    assert len(seen) == 1  # not transient: no retry
