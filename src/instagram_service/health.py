"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from instagram_service.apikeys.auth import ReadKey
from instagram_service.dependencies_check import database_down, one_line, redis_down
from instagram_service.deps import DatabaseDep, SettingsDep
from instagram_service.kit.openapi import ADMIN_ERRORS, example_content
from instagram_service.media.stores import storage_down
from instagram_service.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={200: example_content({"status": "ok"})})
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: example_content({"status": "ready", "revision": "0002", "down": {}}),
        503: {
            "description": "Database unreachable or not migrated",
            **example_content(
                {
                    "status": "not ready",
                    "detail": "database unreachable: ...",
                    "down": {"database": "database unreachable: ..."},
                }
            ),
        },
    },
)
async def readyz(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """The database answers at the newest migration. Redis or the media storage down is
    reported, not fatal: the gallery's JSON is still served (status "degraded"); syncs,
    queued work and (storage) images wait."""
    down: dict[str, str] = {}
    redis = await redis_down(settings.redis_url)
    if redis is not None:
        down["redis"] = redis
    storage = await storage_down(settings)
    if storage is not None:
        down["storage"] = storage
    database = await database_down(db.engine)
    if database is not None:
        down["database"] = database
        return _not_ready(database, down)
    try:
        current = await current_revision(db.engine)
    except Exception as exc:  # any driver error means not ready; say which
        return _not_ready(f"database unreachable: {one_line(exc)}", down)
    head = head_revision()
    if current != head:
        return _not_ready(
            f"database schema at revision {current}, expected {head}: run migrate", down
        )
    status = "degraded" if down else "ready"
    return JSONResponse({"status": status, "revision": current, "down": down})


def _not_ready(detail: str, down: dict[str, str]) -> JSONResponse:
    body = {"status": "not ready", "detail": detail[:500], "down": down}
    return JSONResponse(body, status_code=503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: example_content(
            "# HELP igs_http_requests_total HTTP requests\n"
            "# TYPE igs_http_requests_total counter\n"
            'igs_http_requests_total{method="GET",route="/api/v1/gallery",status="200"} 42.0\n',
            "text/plain",
        ),
        **ADMIN_ERRORS,
    },
)
async def metrics(_: ReadKey) -> Response:
    """Prometheus metrics (scrape with `authorization: {credentials: <read key>}`)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
