"""Structured logs with request ids, and Prometheus metrics."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

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
SYNC_JOB_SECONDS = Histogram(
    "igs_sync_job_seconds",
    "Sync job duration, from start (or takeover) to its end",
    ["type", "status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600),
)
TASK_SECONDS = Histogram(
    "igs_task_seconds", "Task duration in a worker", ["task", "outcome"],
    buckets=(0.05, 0.25, 1, 5, 15, 60, 300, 1200),
)  # fmt: skip
for _status in ("COMPLETED", "FAILED"):
    SYNC_JOBS.labels(_status)  # present from the first scrape, at 0

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


def _exception_summary(exc_info: Any) -> str | None:
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
        exc = exc_info[1]
    else:
        return None
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class _OneLineErrors(logging.Filter):
    """Below DEBUG, a logged exception becomes `message: ExcType: first line`, no traceback:
    an operator reads one line per failure (libraries such as taskiq log with exc_info)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not logging.getLogger().isEnabledFor(logging.DEBUG):
            summary = _exception_summary(record.exc_info)
            if summary:
                record.msg = f"{record.getMessage()}: {summary}"
                record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _one_line_exceptions(
    _logger: object, _name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    exc_info = event_dict.pop("exc_info", None)
    if exc_info and logging.getLogger().isEnabledFor(logging.DEBUG):
        event_dict["exc_info"] = exc_info  # debug: the whole traceback
    elif exc_info:
        event_dict.setdefault("error", _exception_summary(exc_info))
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            _one_line_exceptions,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    if not root.handlers:  # not under a test runner or a host that configured logging
        logging.basicConfig(level=level, format="%(message)s")
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and not any(
            isinstance(f, _OneLineErrors) for f in handler.filters
        ):
            handler.addFilter(_OneLineErrors())
    for noisy in ("taskiq", "alembic", "httpx"):  # one line per task, migration, request
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


_ID_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _incoming_id(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            return value if 0 < len(value) <= 64 and _ID_CHARS.issuperset(value) else None
    return None


def _add_request_id(
    _logger: object, _name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class _RouteMetrics:
    """Prometheus children cached per label set: `labels()` costs more than the request."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[str, Any] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(method, route, str(status))
            self._counters[(method, route, status)] = counter
        counter.inc()
        latency = self._latency.get(route)
        if latency is None:
            latency = self._latency[route] = HTTP_LATENCY.labels(route)
        latency.observe(seconds)


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's), puts it in logs, echoes it back,
    and counts the request by route. Plain ASGI and lean: it runs on every gallery hit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = _RouteMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _incoming_id(scope) or os.urandom(12).hex().encode()
        token = request_id_var.set(raw.decode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw)]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The route template, not the path: ids must not explode the label set.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.record(scope["method"], route, status, time.perf_counter() - started)
            request_id_var.reset(token)
