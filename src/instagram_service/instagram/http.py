"""The process-wide pooled HTTP client for Instagram calls."""

from __future__ import annotations

import httpx

from instagram_service.instagram.redact import install_log_redaction

_shared: httpx.AsyncClient | None = None


def get_http_client() -> httpx.AsyncClient:
    """One pooled client per process; each request passes its own timeout."""
    global _shared
    if _shared is None or _shared.is_closed:
        install_log_redaction()
        _shared = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            headers={"User-Agent": "instagram-service/0.1"},
            follow_redirects=False,
        )
    return _shared


async def close_http_client() -> None:
    global _shared
    if _shared is not None:
        client, _shared = _shared, None
        await client.aclose()
