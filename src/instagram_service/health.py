"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from instagram_service.apikeys.auth import ReadKey
from instagram_service.deps import DatabaseDep
from instagram_service.kit.openapi import ADMIN_ERRORS, example_content
from instagram_service.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={200: example_content({"status": "ok"})})
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: example_content({"status": "ready", "revision": "0002"}),
        503: {
            "description": "Database unreachable or not migrated",
            **example_content({"status": "not ready", "detail": "database unreachable: ..."}),
        },
    },
)
async def readyz(db: DatabaseDep) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await current_revision(db.engine)
    except Exception as exc:  # any driver error means not ready; say which
        message = f"database unreachable: {type(exc).__name__}: {exc}".splitlines()[0]
        return JSONResponse({"status": "not ready", "detail": message[:500]}, status_code=503)
    head = head_revision()
    if current != head:
        detail = f"database schema at revision {current}, expected {head}: run migrate"
        return JSONResponse({"status": "not ready", "detail": detail}, status_code=503)
    return JSONResponse({"status": "ready", "revision": current})


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
