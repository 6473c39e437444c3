"""Structured logs with request ids, and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter("igs_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("igs_http_request_seconds", "HTTP request latency", ["route"])
SYNC_JOBS = Counter("igs_sync_jobs_total", "Sync jobs finished", ["status"])
POSTS_SYNCED = Counter("igs_posts_synced_total", "Posts processed by syncs", ["outcome"])
IMAGES_PROCESSED = Counter("igs_images_processed_total", "Images processed", ["outcome"])
WEBHOOKS_RECEIVED = Counter("igs_webhooks_received_total", "Incoming webhooks", ["outcome"])

_TOKEN_RE = re.compile(r"(access_token|client_secret|token)=([^&\s\"']+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Remove token-like query values from any text that may reach a log."""
    return _TOKEN_RE.sub(r"\1=REDACTED", text)


def _redact_processor(
    _logger: object, _name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, format="%(message)s")
    for noisy in ("taskiq", "alembic", "httpx"):  # one line per task, migration, request
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's), binds it to logs, echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] if re.fullmatch(r"[\w.-]{1,64}", incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)

        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The route template, not the path: ids must not explode the label set.
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)
