"""Serving the app: granian by default, uvicorn on request.

benchmarks/gallery_http.py (same run, one worker each, wrk -c64): the gallery answers
about 1.2x the requests/s on granian with a p99 of 15-17 ms instead of 27-83 ms on uvicorn,
and a bare route 1.4-1.6x (perf-baseline.md: files 4-6x).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from enum import StrEnum

import uvicorn
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server as Granian
from starlette.types import ASGIApp

from instagram_service.app import create_app
from instagram_service.settings import Settings


class ServerKind(StrEnum):
    GRANIAN = "granian"
    UVICORN = "uvicorn"


def settle() -> None:
    """Moves the objects made at start-up to GC's permanent generation: full collections no
    longer walk ~150k of them under load (gallery p99 131 -> 27 ms on uvicorn)."""
    gc.collect()
    gc.freeze()


def _settled(load: Callable[[], ASGIApp]) -> ASGIApp:
    """Runs in the worker process (granian) or in this one (uvicorn)."""
    app = load()
    settle()
    return app


def serve_app(
    settings: Settings,
    *,
    host: str,
    port: int,
    server: ServerKind = ServerKind.GRANIAN,
    log_level: str = "info",
) -> None:
    """Serve the service until Ctrl-C or SIGTERM, then return."""
    # Partials of module functions: picklable, should granian ever spawn, not fork, workers.
    load = functools.partial(create_app, settings)
    serve_asgi(load, host=host, port=port, server=server, log_level=log_level)


def serve_asgi(
    load: Callable[[], ASGIApp],
    *,
    host: str,
    port: int,
    server: ServerKind = ServerKind.GRANIAN,
    log_level: str = "info",
) -> None:
    """Serve the app `load()` makes, one worker; a stop by signal is a normal return."""
    if server is ServerKind.UVICORN:
        config = uvicorn.Config(_settled(load), host=host, port=port, log_level=log_level)
        try:
            uvicorn.Server(config).run()
        except KeyboardInterrupt:
            pass  # uvicorn raises the signal again once it has shut down
        return
    granian = Granian(
        "instagram_service",  # only named in logs: the loader makes the app in the worker
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        websockets=False,
        log_level=LogLevels(log_level),
    )
    granian.serve(target_loader=functools.partial(_settled, load), wrap_loader=False)
