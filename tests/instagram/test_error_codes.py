"""Every Graph error code of the API notes maps to its error class: through the mapping
function, and through the real client against the emulator's injected faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from instagram_service.emulator import EmulatorHandle
from instagram_service.instagram import (
    CallStats,
    InstagramClient,
    InstagramError,
    MediaNotFound,
    PermissionDenied,
    RateLimited,
    TokenInvalid,
    TransientError,
)
from instagram_service.instagram.errors import error_from_response
from instagram_service.instagram.schemas import IGChild, IGMedia, parse_timestamp
from tests.instagram.conftest import DEMO_TOKEN

RATE_LIMIT_CODES = [4, 17, 32, 613, 80002]
TOKEN_SUBCODES = {
    458: "app removed by the user",
    460: "password changed",
    463: "token expired",
    467: "token invalid",
}


def graph_error(code: int | str | None, **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"message": f"(#{code}) something", "type": "OAuthException"}
    if code is not None:
        err["code"] = code
    err.setdefault("fbtrace_id", "AbCdEf123")
    err.update(extra)
    return {"error": err}


def mapped(
    code: int | str | None,
    http_status: int = 400,
    *,
    object_call: bool = False,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> InstagramError:
    return error_from_response(
        "GET /me", http_status, graph_error(code, **extra), headers, object_call=object_call
    )


# --- the mapping function --------------------------------------------------------------------


@pytest.mark.parametrize("code", RATE_LIMIT_CODES)
@pytest.mark.parametrize("http_status", [400, 403, 500])
def test_rate_limit_codes(code: int, http_status: int) -> None:
    err = mapped(code, http_status)
    assert type(err) is RateLimited
    assert err.code == code
    assert err.http_status == http_status
    assert not err.from_limiter
    # A code sent as a string is the same code.
    assert type(mapped(str(code), http_status)) is RateLimited


@pytest.mark.parametrize("code", RATE_LIMIT_CODES)
def test_rate_limits_win_over_is_transient(code: int) -> None:
    assert type(mapped(code, 500, is_transient=True)) is RateLimited


@pytest.mark.parametrize(
    "body",
    [None, "Too Many Requests", {}, graph_error(None), graph_error(2, is_transient=True)],
    ids=["no-body", "text", "empty-object", "no-code", "transient-code"],
)
def test_http_429_is_a_rate_limit(body: Any) -> None:
    err = error_from_response("GET /me/media", 429, body)
    assert type(err) is RateLimited
    assert err.http_status == 429


def test_rate_limit_takes_the_wait_from_the_usage_header() -> None:
    usage = {"17841400000000101": [{"type": "instagram", "call_count": 100,
                                    "estimated_time_to_regain_access": 12}]}  # fmt: skip
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    err = mapped(80002, headers=headers)
    assert isinstance(err, RateLimited)
    assert err.retry_after_s == pytest.approx(720)
    assert "retry after 720s" in str(err)
    bare = mapped(4)
    assert isinstance(bare, RateLimited)
    assert bare.retry_after_s is None


@pytest.mark.parametrize(("subcode", "reason"), sorted(TOKEN_SUBCODES.items()))
@pytest.mark.parametrize("http_status", [400, 401, 500])
def test_token_invalid_subcodes(subcode: int, reason: str, http_status: int) -> None:
    err = mapped(190, http_status, error_subcode=subcode)
    assert type(err) is TokenInvalid
    assert (err.code, err.subcode) == (190, subcode)
    assert err.reason == reason
    assert f"[{reason}]" in str(err)
    assert "fbtrace_id AbCdEf123" in str(err)


def test_token_invalid_without_or_with_unknown_subcode() -> None:
    for err in (mapped(190), mapped(190, error_subcode=999), mapped(190, is_transient=True)):
        assert type(err) is TokenInvalid
        assert err.reason == "token invalid"


@pytest.mark.parametrize(
    ("code", "http_status", "extra"),
    [
        (1, 400, {}),
        (2, 400, {}),
        (1, 500, {"is_transient": False}),  # code 1 is temporary even when not flagged
        (2, 503, {"is_transient": True}),
        (9999, 400, {"is_transient": True}),  # any code flagged transient
        (None, 500, {}),
        (100, 502, {}),  # a 5xx is temporary, whatever code it carries (list call)
        (12345, 504, {}),
    ],
)
def test_transient(code: int | None, http_status: int, extra: dict[str, Any]) -> None:
    err = mapped(code, http_status, **extra)
    assert type(err) is TransientError
    assert err.code == code


@pytest.mark.parametrize("http_status", [500, 502, 503, 504])
def test_5xx_without_a_graph_body_is_transient(http_status: int) -> None:
    err = error_from_response("GET /me", http_status, "<html>Bad gateway</html>")
    assert type(err) is TransientError
    assert err.code is None
    assert err.ig_message == f"unexpected response (HTTP {http_status})"


@pytest.mark.parametrize("code", [3, 10, 200, 201, 230, 299])
@pytest.mark.parametrize("http_status", [400, 403])
def test_permission_codes(code: int, http_status: int) -> None:
    err = mapped(code, http_status)
    assert type(err) is PermissionDenied
    assert err.code == code
    assert type(mapped(code, http_status, is_transient=True)) is PermissionDenied


@pytest.mark.parametrize("code", [199, 300, 2500])
def test_codes_next_to_the_permission_range_are_plain_errors(code: int) -> None:
    assert type(mapped(code)) is InstagramError


def test_code_100_is_not_found_only_on_an_object() -> None:
    on_object = mapped(100, object_call=True, error_subcode=33)
    assert type(on_object) is MediaNotFound
    assert (on_object.code, on_object.subcode) == (100, 33)
    on_list = mapped(100)
    assert type(on_list) is InstagramError
    assert on_list.code == 100


def test_oauth_exchange_shape() -> None:
    body = {"error_type": "OAuthException", "code": 400, "error_message": "Invalid code"}
    err = error_from_response("POST /oauth/access_token", 400, body)
    assert type(err) is InstagramError
    assert (err.code, err.ig_message) == (400, "Invalid code")


# --- the real client against the emulator's faults ----------------------------------------


@pytest.mark.parametrize("code", RATE_LIMIT_CODES)
async def test_client_rate_limit_codes(
    client: InstagramClient, emu: EmulatorHandle, code: int
) -> None:
    emu.state.set_faults(usage_pct=100, rate_limit_code=code, regain_minutes=3)
    stats = CallStats()
    with pytest.raises(RateLimited) as caught:
        await client.get_me(DEMO_TOKEN, stats)
    assert caught.value.code == code
    assert caught.value.http_status == 400
    assert caught.value.retry_after_s == pytest.approx(180, abs=2)
    assert stats.rate_limit_hit
    assert emu.state.stats()["total_calls"] == 1  # a rate limit is never retried at once


async def test_client_http_429_is_a_rate_limit(
    client: InstagramClient, emu: EmulatorHandle
) -> None:
    emu.state.set_faults(fail_next=1, fail_code=2, error_http_status=429)
    stats = CallStats()
    with pytest.raises(RateLimited) as caught:
        await client.get_me(DEMO_TOKEN, stats)
    assert caught.value.http_status == 429
    assert stats.rate_limit_hit
    assert emu.state.stats()["total_calls"] == 1


@pytest.mark.parametrize(("subcode", "reason"), sorted(TOKEN_SUBCODES.items()))
async def test_client_token_invalid_subcodes(
    client: InstagramClient, emu: EmulatorHandle, subcode: int, reason: str
) -> None:
    emu.state.set_faults(token_invalid_after=0, token_invalid_subcode=subcode)
    with pytest.raises(TokenInvalid) as caught:
        await client.get_me(DEMO_TOKEN)
    assert (caught.value.code, caught.value.subcode, caught.value.reason) == (190, subcode, reason)
    assert emu.state.stats()["total_calls"] == 1  # not retried


@pytest.mark.parametrize(("code", "http_status"), [(1, 500), (2, 502), (2, 503)])
async def test_client_transient_codes_are_retried_then_raised(
    client: InstagramClient, emu: EmulatorHandle, code: int, http_status: int
) -> None:
    emu.state.set_faults(fail_next=10, fail_code=code, error_http_status=http_status)
    with pytest.raises(TransientError) as caught:
        await client.get_me(DEMO_TOKEN)
    assert (caught.value.code, caught.value.http_status) == (code, http_status)
    assert caught.value.is_transient
    assert emu.state.stats()["total_calls"] == 3  # one call and api_max_retries=2 retries


@pytest.mark.parametrize("code", [3, 10, 200])
async def test_client_permission_codes(
    client: InstagramClient, emu: EmulatorHandle, code: int
) -> None:
    emu.state.set_faults(fail_next=1, fail_code=code)
    with pytest.raises(PermissionDenied) as caught:
        await client.get_me(DEMO_TOKEN)
    assert caught.value.code == code
    assert emu.state.stats()["total_calls"] == 1


async def test_client_code_100_on_a_media_is_not_found(
    client: InstagramClient, emu: EmulatorHandle
) -> None:
    media_id = emu.state.scenario.accounts[0].media[0].id
    emu.state.set_faults(fail_next=1, fail_code=100)
    with pytest.raises(MediaNotFound):
        await client.get_media(DEMO_TOKEN, media_id)
    assert (await client.get_media(DEMO_TOKEN, media_id)).id == media_id  # the fault is spent
    emu.state.set_faults(fail_next=1, fail_code=100)
    with pytest.raises(InstagramError) as on_me:
        await client.get_me(DEMO_TOKEN)
    assert type(on_me.value) is InstagramError  # not an object lookup: a plain failure


# --- timestamps --------------------------------------------------------------------------------

SAME_INSTANT = [
    "2024-09-26T22:36:43+0000",
    "2024-09-26T22:36:43Z",
    "2024-09-26T22:36:43+00:00",
    "2024-09-27T00:36:43+0200",
    "2024-09-26T17:36:43-05:00",
    " 2024-09-26T22:36:43+0000 ",
    1727390203,
]


@pytest.mark.parametrize("value", SAME_INSTANT, ids=str)
def test_timestamps_parse_to_the_same_aware_utc_datetime(value: Any) -> None:
    expected = datetime(2024, 9, 26, 22, 36, 43, tzinfo=UTC)
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    media = IGMedia.model_validate({"id": 1, "timestamp": value})
    assert media.timestamp == expected
    assert media.timestamp is not None
    assert media.timestamp.tzinfo is not None
    assert media.id == "1"
    child = IGChild.model_validate({"id": "2", "timestamp": value})
    assert child.timestamp == expected


def test_z_and_plus0000_give_identical_values() -> None:
    z = IGMedia.model_validate({"id": "1", "timestamp": "2021-08-13T08:02:40Z"}).timestamp
    plus = IGMedia.model_validate({"id": "1", "timestamp": "2021-08-13T08:02:40+0000"}).timestamp
    assert z == plus
    assert z is not None
    assert plus is not None
    assert (z.tzinfo, plus.tzinfo) == (UTC, UTC)
    assert z.isoformat() == plus.isoformat() == "2021-08-13T08:02:40+00:00"
    other_zone = parse_timestamp("2021-08-13T10:02:40+0200")
    assert other_zone.tzinfo == UTC
    assert other_zone != datetime(2021, 8, 13, 10, 2, 40, tzinfo=timezone(timedelta(hours=3)))
