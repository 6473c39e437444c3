"""X-Hub-Signature-256: the fixture vectors, the re-encoding trap, and fuzzed signatures."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.instagram_webhooks import routes as incoming
from instagram_service.instagram_webhooks.signature import hub_signature, verify_hub_signature
from instagram_service.settings import Settings
from instagram_service.webhooks.routes import router
from tests.webhooks.support import CALLBACK, FIXTURES, AppEnv, drain, events, sign, signed

VECTORS = json.loads((FIXTURES / "derived/x_hub_signature_256_vectors.json").read_text())
STAGED = VECTORS["staged_webhook_files"]
GOTCHA = VECTORS["unicode_escaping_gotcha"]


def test_known_answer_vector() -> None:
    vector = VECTORS["known_answer_github_docs"]
    body = vector["body_utf8"].encode()
    assert hub_signature(body, vector["secret"]) == vector["x_hub_signature_256"]
    assert verify_hub_signature(body, vector["x_hub_signature_256"], vector["secret"])


@pytest.mark.parametrize("item", STAGED["items"], ids=lambda item: item["file"])
def test_fixture_file_vectors(item: dict[str, str]) -> None:
    raw = (FIXTURES / item["file"]).read_bytes()
    secret = STAGED["secret"]
    assert hashlib.sha256(raw).hexdigest() == item["body_sha256"]
    assert verify_hub_signature(raw, item["x_hub_signature_256"], secret)
    compact = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    # Re-serialised JSON is other bytes: its own signature only, never the original one.
    assert verify_hub_signature(
        compact, item["x_hub_signature_256_of_compact_reserialization"], secret
    )
    assert not verify_hub_signature(compact, item["x_hub_signature_256"], secret)
    assert not verify_hub_signature(raw, item["x_hub_signature_256"], "another-secret")


def test_reencoding_breaks_the_signature() -> None:
    secret = GOTCHA["secret"]
    raw = GOTCHA["raw_body_as_sent_ascii_escaped"].encode()
    utf8 = GOTCHA["same_json_reencoded_utf8"].encode()
    python = GOTCHA["same_json_reencoded_python_default_escapes"].encode("utf-8", "surrogatepass")
    assert json.loads(raw) == json.loads(utf8)
    assert verify_hub_signature(raw, GOTCHA["sig_raw_body"], secret)
    assert verify_hub_signature(utf8, GOTCHA["sig_reencoded_utf8"], secret)
    assert verify_hub_signature(python, GOTCHA["sig_reencoded_python_default"], secret)
    assert not verify_hub_signature(utf8, GOTCHA["sig_raw_body"], secret)
    assert not verify_hub_signature(python, GOTCHA["sig_raw_body"], secret)


def test_missing_or_malformed_headers_fail() -> None:
    body = b"{}"
    good = sign(body)
    for header in (None, "", "sha256=", good[7:], "sha1=" + good[7:], good[:-1], good + "0"):
        assert not verify_hub_signature(body, header, "test-app-secret")
    assert verify_hub_signature(body, good.upper().replace("SHA256=", "sha256="), "test-app-secret")
    assert not verify_hub_signature(body, good, "")


async def test_escaped_body_accepted_reencoded_refused(env: AppEnv) -> None:
    raw = GOTCHA["raw_body_as_sent_ascii_escaped"].encode()
    utf8 = GOTCHA["same_json_reencoded_utf8"].encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": GOTCHA["sig_raw_body"]}
    assert (await env.http.post(CALLBACK, content=utf8, headers=headers)).status_code == 401
    assert (await env.http.post(CALLBACK, content=raw, headers=headers)).status_code == 200
    await drain()
    (event,) = await events(env.db)
    assert event.raw_body == raw  # stored as received, byte for byte


# --- fuzzing: no body is accepted without its own signature -----------------------------------


@st.composite
def forged(draw: st.DrawFn) -> tuple[bytes, str]:
    body = draw(st.binary(max_size=512))
    good = sign(body)
    kind = draw(st.sampled_from(["text", "hex", "mutated", "other_secret", "other_body"]))
    if kind == "text":
        header = draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=80))
    elif kind == "hex":
        header = "sha256=" + draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    elif kind == "mutated":
        index = draw(st.integers(7, len(good) - 1))
        choices = [c for c in "0123456789abcdef" if c != good[index]]
        header = good[:index] + draw(st.sampled_from(choices)) + good[index + 1 :]
    elif kind == "other_secret":
        header = sign(
            body, draw(st.text(min_size=1, max_size=20).filter(lambda s: s != "test-app-secret"))
        )
    else:
        other = draw(st.binary(max_size=512).filter(lambda b: b != body))
        header = sign(other)
    return body, header


def test_fuzzed_signatures_never_accepted(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[bytes] = []

    async def must_not_store(_session: Any, body: bytes) -> Any:
        stored.append(body)
        raise AssertionError("an unverified body reached the store")

    monkeypatch.setattr(incoming, "store_event", must_not_store)
    # No query is ever made: verification comes before the session is used.
    app = create_app(settings, database=Database("sqlite+aiosqlite:///:memory:"))
    app.include_router(router)

    async def post(body: bytes, header: str) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                CALLBACK, content=body, headers={"X-Hub-Signature-256": header}
            )
        return response.status_code

    @given(forged())
    @hsettings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: tuple[bytes, str]) -> None:
        body, header = case
        assert not verify_hub_signature(body, header, "test-app-secret")
        assert asyncio.run(post(body, header)) == 401

    check()
    assert stored == []


async def test_unsigned_and_wrong_secret_store_nothing(env: AppEnv) -> None:
    body = (FIXTURES / "restfb/ig_comments_changes.json").read_bytes()
    unsigned = await env.http.post(CALLBACK, content=body)
    assert unsigned.status_code == 401
    assert unsigned.json() == {"detail": "missing X-Hub-Signature-256 header"}
    wrong = await env.http.post(CALLBACK, content=body, headers=signed(body, "not-the-secret"))
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "invalid X-Hub-Signature-256 signature"}
    assert await events(env.db) == []
