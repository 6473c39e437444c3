"""Helpers: the app with its lifespan (runtime + in-process broker), served on a loopback port,
and a CMS receiver in a thread that verifies our signatures with `standardwebhooks`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instagram_service.apikeys.service import create_key
from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.models import WebhookDelivery, WebhookEvent
from instagram_service.settings import Settings
from instagram_service.webhooks.routes import router
from instagram_service.worker.broker import broker
from tests.shared_fixtures import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "webhooks"
CALLBACK = "/api/v1/webhooks/instagram"


def sign(body: bytes, secret: str = "test-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes, secret: str = "test-app-secret") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)}


def webhook_settings(settings: Settings, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "embedded_scheduler": False,
        "webhook_allow_private_targets": True,
        "webhook_retry_delays_s": [0.05, 0.05],
        "webhook_retry_inline_max_s": 5.0,
        "webhook_delivery_timeout_s": 5.0,
        **overrides,
    }
    return settings.model_copy(update=values)


async def drain(timeout: float = 30.0) -> None:
    """Wait for every task, including those kicked by tasks."""
    deadline = time.monotonic() + timeout
    while getattr(broker, "_running_tasks", None):
        if time.monotonic() > deadline:
            raise AssertionError("broker tasks did not finish")
        await broker.wait_all()
        await asyncio.sleep(0)


@asynccontextmanager
async def serve(app: Any, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port in this event loop (lifespan left to us)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class AppEnv:
    app: FastAPI
    http: httpx.AsyncClient  # through the ASGI transport
    db: Database
    admin: dict[str, str]


@asynccontextmanager
async def running_app(settings: Settings, db: Database) -> AsyncIterator[AppEnv]:
    app = create_app(settings, database=db)
    app.include_router(router)
    async with app.router.lifespan_context(app):
        async with db.session() as session:
            _, key = await create_key(session, name="admin", scope="admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield AppEnv(app, http, db, {"Authorization": f"Bearer {key}"})
        await drain()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A CMS endpoint: answers the queued statuses in turn (then `default`), records all."""

    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            with self.lock:
                status = self.statuses.pop(0) if self.statuses else self.default
                status = status if verified else 400
                self.received.append(Received(headers, body, verified, status))
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@contextmanager
def running_receiver(receiver: Receiver) -> Iterator[Receiver]:
    """The receiver on a loopback port, served by uvicorn in its own thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(receiver.app(), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def events(db: Database) -> list[WebhookEvent]:
    async with db.session() as session:
        return list(await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.session() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
