"""FastAPI app factory: routers, middleware, lifespan, the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette_compress import CompressMiddleware
from taskiq import InMemoryBroker
from taskiq.exceptions import SendTaskError

from instagram_service import __version__
from instagram_service.accounts.routes import router as accounts_router
from instagram_service.apikeys.routes import router as keys_router
from instagram_service.body_limit import BodyLimitMiddleware
from instagram_service.categories.routes import router as categories_router
from instagram_service.container import Container
from instagram_service.db import Database
from instagram_service.dependencies_check import one_line
from instagram_service.errors import ServiceError
from instagram_service.feeds.routes import admin as feeds_admin_router
from instagram_service.feeds.routes import public as feeds_router
from instagram_service.health import router as health_router
from instagram_service.instagram_webhooks.routes import INSTAGRAM_WEBHOOK_PATH
from instagram_service.instagram_webhooks.routes import router as instagram_webhooks_router
from instagram_service.media.routes import router as images_router
from instagram_service.migrate import upgrade
from instagram_service.moderation.routes import router as moderation_router
from instagram_service.observability import RequestIdMiddleware, configure_logging, get_logger
from instagram_service.posts.http import FreshHitMiddleware
from instagram_service.posts.routes import admin as posts_router
from instagram_service.posts.routes import public as gallery_router
from instagram_service.settings import Settings, get_settings
from instagram_service.sync import ports
from instagram_service.sync.routes import router as sync_router
from instagram_service.validation import validation_error_handler
from instagram_service.web.admin.routes import error_page as console_error_page
from instagram_service.web.admin.routes import is_console
from instagram_service.web.admin.routes import mount as mount_console
from instagram_service.web.cors import PublicCORSMiddleware
from instagram_service.web.routes import router as web_router
from instagram_service.webhooks.routes import router as webhooks_router
from instagram_service.wiring import build_wired
from instagram_service.worker.broker import broker, import_task_modules
from instagram_service.worker.scheduler import background_scheduler

log = get_logger(__name__)

DESCRIPTION = """Keeps a business's Instagram content on its own website: synced posts,
locally cached image variants, moderation, a public gallery API and signed webhooks.

Public routes are read-only. Admin routes need `Authorization: Bearer <admin key>`
(create one with `instagram-service keys create --scope admin --name NAME`)."""


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if is_console(request):
        return console_error_page(request, exc)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code)


async def dependency_down_handler(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL or Redis unreachable: 503 with the reason, one log line, no traceback."""
    which = "redis" if isinstance(exc, RedisError | SendTaskError) else "database"
    cause = exc.__cause__ if isinstance(exc, SendTaskError) and exc.__cause__ else exc
    detail = f"{which} unavailable: {one_line(cause)}"
    log.warning("request failed: a dependency is down", path=request.url.path, error=detail)
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})


async def _start_media(container: Container) -> None:
    try:
        await container.get(ports.MEDIA).start()
    except Exception as exc:  # the first image starts it again, and says why if it cannot
        log.warning(f"image processes not started ahead: {one_line(exc)}")


NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = build_wired(settings, database)
        app.state.db = container.db
        app.state.container = container
        if container.db.is_sqlite:
            # Embedded mode: one command, so the schema is brought up to date at start.
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await upgrade(container.db.engine)
        # The in-process broker runs tasks with this container (given back at the end: an
        # app started inside another's lifespan, as tests do, must not leave it without).
        previous = getattr(broker.state, "container", None)
        broker.state.container = container
        import_task_modules()
        await broker.startup()
        embedded = isinstance(broker, InMemoryBroker) and settings.embedded_scheduler
        log.info("service started", database=container.db.engine.dialect.name, scheduler=embedded)
        pool = None
        if isinstance(broker, InMemoryBroker) and settings.image_pool_at_start:
            # This process syncs: its image processes start now, in the background. Started
            # in the middle of a sync under load (a fork of this process and the forkserver's
            # imports), they put the gallery's p99 at 140-340 ms for that sync's first seconds.
            pool = asyncio.create_task(_start_media(container))
        try:
            if embedded:
                async with background_scheduler(settings.scheduler_interval_s, container.db):
                    yield
            else:
                yield
        finally:
            if pool is not None:
                pool.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pool
            await broker.shutdown()
            broker.state.container = previous
            await container.aclose()

    configure_logging(settings.log_level)
    # The API docs' Swagger UI comes from the installed fastapi-offline package, not a CDN.
    app = FastAPIOffline(
        title="instagram-service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Metrics are Prometheus (observability.py). FastAPI's OpenTelemetry bridge, on by
        # default, looked up the OpenTelemetry providers (three environment reads) on every
        # request: a quarter of a gallery hit's time.
        telemetry=NO_TELEMETRY,
    )
    app.state.settings = settings
    if database is not None:
        app.state.db = database  # usable without the lifespan (tests on an ASGI transport)
    app.add_exception_handler(ServiceError, service_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    down_errors = (ConnectionError, TimeoutError, OperationalError, InterfaceError)
    for down in (*down_errors, RedisConnectionError, RedisTimeoutError, SendTaskError):
        app.add_exception_handler(down, dependency_down_handler)
    # Each one added wraps those before it. Innermost: its 413s and 422s get the CORS
    # headers and a request id.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        own_caps={INSTAGRAM_WEBHOOK_PATH: settings.webhook_max_body_bytes},
    )
    # Compresses what the cached routes did not (they keep compressed bytes beside the plain).
    app.add_middleware(CompressMiddleware, minimum_size=512)
    # Fresh gallery and feed hits, answered before all that is inside (routing included).
    app.add_middleware(FreshHitMiddleware, max_age=settings.gallery_cache_seconds)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(PublicCORSMiddleware)
    app.add_middleware(RequestIdMiddleware)
    routers = (
        # First, each included directly (FastAPI matches nested routers level by level): the
        # most requested routes are matched soonest when they miss the cache.
        gallery_router,
        feeds_router,
        feeds_admin_router,  # after the public `/{ref}`: it is not an `/{feed_id}`
        health_router,
        posts_router,
        accounts_router,
        sync_router,
        keys_router,
        instagram_webhooks_router,
        webhooks_router,
        moderation_router,
        categories_router,
        images_router,
        web_router,
    )
    for router in routers:
        app.include_router(router)
    mount_console(app)
    return app
