"""Serving the app: uvicorn (the default; see benchmarks/gallery_http.py for granian)."""

from __future__ import annotations

import uvicorn

from instagram_service.app import create_app
from instagram_service.settings import Settings


def serve_app(settings: Settings, *, host: str, port: int) -> None:
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
