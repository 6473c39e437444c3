"""No token (nor the app secret) ever shows in a log line or an exception, on any error path."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from instagram_service.emulator import EmulatorHandle
from instagram_service.instagram import InstagramClient, InstagramError, RateLimiter, redact_url
from instagram_service.settings import Settings
from tests.instagram.conftest import DEMO_TOKEN, DEMO_USER, client_settings


def test_redact_url() -> None:
    url = "https://h/v1/me?fields=id&access_token=IGAAsecret&client_secret=s3cr3t&limit=2"
    assert redact_url(url) == "https://h/v1/me?fields=id&access_token=***&client_secret=***&limit=2"
    assert redact_url("code=AQabc#_") == "code=***#_"
    assert redact_url("Authorization: Bearer IGAAsecret") == "Authorization: Bearer ***"
    assert redact_url("error_subcode=463") == "error_subcode=463"


async def test_no_token_in_logs_or_exceptions(
    emu: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = emu.state
    secret = state.scenario.app_secret
    revoked = state.issue_token(DEMO_USER)
    state.revoke_token(revoked)
    short = state.issue_token(DEMO_USER, "short")
    young = state.issue_token(DEMO_USER)
    tokens = [DEMO_TOKEN, revoked, short, young, "IGAAnotatokenatall"]
    client = InstagramClient(client_settings(emu, http_timeout_s=0.3), limiter=RateLimiter())
    errors: list[BaseException] = []

    async def expect_error(make: Callable[[], Awaitable[Any]], **faults: Any) -> None:
        state.reset_faults()
        if faults:
            state.set_faults(**faults)
        try:
            await make()
        except InstagramError as exc:
            errors.append(exc)
        else:
            pytest.fail("no error")

    async def pages(token: str) -> None:
        async for _ in client.iter_media_pages(token, limit=5):
            state.set_faults(fail_next=5)  # fails on a `next` URL, which carries the token

    await expect_error(lambda: client.get_me("IGAAnotatokenatall"))
    await expect_error(lambda: client.get_me(revoked))
    await expect_error(lambda: client.get_me(DEMO_TOKEN), fail_next=5)
    await expect_error(lambda: client.get_me(DEMO_TOKEN), timeout_next=5, timeout_s=0.6)
    await expect_error(lambda: pages(DEMO_TOKEN))
    await expect_error(lambda: client.get_media(DEMO_TOKEN, "17999999999999999"))
    await expect_error(lambda: client.exchange_code("AQsecretcode#_", "https://x.example/cb"))
    await expect_error(lambda: client.exchange_token(young))
    await expect_error(lambda: client.refresh_token(young))
    await expect_error(lambda: client.refresh_token(short))
    await expect_error(lambda: client.get_me(young), usage_pct=100)
    await expect_error(lambda: client.get_me(young))  # refused by our own limiter
    await expect_error(lambda: _bad_shape_client(young).refresh_token(young))
    state.reset_faults()

    assert "access_token=***" in caplog.text  # httpx's request log line went through the filter
    texts = [caplog.text] + [
        "".join(traceback.format_exception(e)) + repr(e) + str(vars(e)) for e in errors
    ]
    for text in texts:
        for token in [*tokens, secret, "AQsecretcode"]:
            assert token not in text


def _bad_shape_client(token: str) -> InstagramClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": token, "expires_in": "soon"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    settings = Settings(graph_base_url="https://graph.instagram.com", redis_url=None)
    return InstagramClient(settings, limiter=RateLimiter(), http=http)
