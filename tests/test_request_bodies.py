"""Bounded bodies before authentication, strict JSON, and a 422 (never a 500) for any input.

The body cap is checked on the real app at the ASGI level, where it can be seen how much of a
body was read; the JSON and validation cases go through httpx as a client would send them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.types import Message

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.instagram_webhooks.routes import INSTAGRAM_WEBHOOK_PATH
from instagram_service.settings import Settings
from tests.factories import make_account, make_post

CHUNK = 64 * 1024


@dataclass
class Env:
    http: httpx.AsyncClient
    admin: dict[str, str]
    post_id: int


@pytest.fixture
async def env(clean_db: Database, settings: Settings) -> AsyncIterator[Env]:
    async with clean_db.session() as session:
        _, key = await create_key(session, name="admin", scope="admin")
        account = await make_account(session)
        post = await make_post(session, account)
        post_id = post.id
    app = create_app(settings.model_copy(update={"embedded_scheduler": False}), database=clean_db)
    async with app.router.lifespan_context(app):  # the routes' container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Env(http, {"Authorization": f"Bearer {key}"}, post_id)


class Upload:
    """A body of `total` bytes (endless if None) in CHUNK pieces, counting what was pulled."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self.read = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.read > 8 * 1024 * 1024:
            raise AssertionError("the app went on reading past 8 MB")
        size = CHUNK if self.total is None else min(CHUNK, self.total - self.read)
        self.read += size
        more = self.total is None or self.read < self.total
        return {"type": "http.request", "body": b"x" * size, "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


def scope(
    path: str, headers: list[tuple[bytes, bytes]], method: str = "PATCH"
) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def test_declared_oversized_body_is_413_before_reading_or_auth(
    settings: Settings, db: Database
) -> None:
    app = create_app(settings, database=db)
    upload = Upload()
    headers = [(b"content-length", str(300 * 1024 * 1024).encode())]
    await app(scope("/api/v1/posts/1", headers), upload.receive, upload.send)
    assert upload.status == 413  # not 401: no key was sent, and none was looked up
    assert upload.read == 0


async def test_undeclared_body_stops_being_read_at_the_cap(
    settings: Settings, db: Database
) -> None:
    app = create_app(settings, database=db)
    upload = Upload()
    await app(
        scope("/api/v1/posts/1", [(b"transfer-encoding", b"chunked")]), upload.receive, upload.send
    )
    assert upload.status == 413
    assert upload.read <= settings.max_body_bytes + CHUNK
    body = json.loads(upload.sent[1]["body"])
    assert body == {"detail": f"request body over {settings.max_body_bytes} bytes"}


async def test_instagram_webhook_keeps_its_own_cap(settings: Settings, db: Database) -> None:
    app = create_app(settings, database=db)
    between = settings.max_body_bytes + CHUNK
    assert between < settings.webhook_max_body_bytes
    upload = Upload(between)
    headers = [(b"content-length", str(between).encode())]
    await app(scope(INSTAGRAM_WEBHOOK_PATH, headers, "POST"), upload.receive, upload.send)
    assert upload.status == 401  # over the general cap, under its own: to the signature check
    upload = Upload()
    headers = [(b"content-length", str(settings.webhook_max_body_bytes + 1).encode())]
    await app(scope(INSTAGRAM_WEBHOOK_PATH, headers, "POST"), upload.receive, upload.send)
    assert upload.status == 413


async def test_long_invalid_field_is_echoed_short(env: Env) -> None:
    text = "a" * 200_000  # under the body cap, over alt_text's 1000 characters
    response = await env.http.patch(
        f"/api/v1/posts/{env.post_id}", json={"alt_text": text}, headers=env.admin
    )
    assert response.status_code == 422
    assert len(response.content) < 1000
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["body", "alt_text"]
    assert issue["input"].startswith("aaaa")
    assert len(issue["input"]) < 100


BAD_BODIES = [
    ("PATCH", "/api/v1/posts/{post}", '{"display_order": NaN}'),
    ("PATCH", "/api/v1/posts/{post}", '{"display_order": Infinity}'),
    ("PATCH", "/api/v1/posts/{post}", '{"display_order": -Infinity}'),
    ("PATCH", "/api/v1/posts/{post}", '{"alt_text": "\\ud800"}'),
    ("POST", "/api/v1/filters", '{"name": "x", "min_engagement_rate": 1e999}'),
    ("POST", "/api/v1/filters", '{"name": "x", "min_engagement_rate": NaN}'),
    ("POST", "/api/v1/filters", '{"name": "\\udfff"}'),
    ("POST", "/api/v1/filters", '{"name": "x", "min_likes": 1' + "0" * 5000 + "}"),
    ("POST", "/api/v1/webhook-subscriptions", '{"url": "https://a.example/\\ud800", "events": []}'),
    ("POST", "/api/v1/sync/trigger", '{"account": "\\ud83d"}'),
    ("POST", "/api/v1/accounts", '{"access_token": "\\ud800abc"}'),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
async def test_values_json_cannot_hold_are_422(env: Env, method: str, path: str, body: str) -> None:
    response = await env.http.request(
        method,
        path.format(post=env.post_id),
        content=body.encode(),
        headers={**env.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    (issue,) = response.json()["detail"]
    assert issue["type"] == "json_invalid"
    assert issue["msg"].startswith("JSON decode error: ")


async def test_nan_in_a_query_parameter_is_422(env: Env) -> None:
    response = await env.http.get("/api/v1/posts?limit=NaN", headers=env.admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "NaN"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("IGAA" + "x" * 65_532, "longer than 2048 characters"),
        ("IGAA token with spaces", "only letters, digits"),
        ("IGAA\x00abc", "only letters, digits"),
    ],
    ids=["64k", "spaces", "control"],
)
async def test_token_of_the_wrong_shape_is_422(env: Env, token: str, problem: str) -> None:
    response = await env.http.post(
        "/api/v1/accounts", json={"access_token": token}, headers=env.admin
    )
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert problem in issue["msg"]
    assert "input" not in issue  # a token is a secret, even a wrong one
    assert "IGAA" not in response.text
