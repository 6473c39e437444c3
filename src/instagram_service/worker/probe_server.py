"""The metrics and probe port of a worker or the scheduler: /metrics, /healthz, /readyz.

These processes serve no HTTP otherwise; a port per process (not prometheus-client's
multiprocess mode) keeps them independent: no shared directory of mmap files to mount and clean,
each pod one scrape target, and /healthz answered by the same event loop that runs the tasks,
so a blocked loop fails its liveness probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from instagram_service.observability import get_logger

log = get_logger(__name__)

Check = Callable[[], Awaitable[str | None]]  # None when fine, else why not
MAX_REQUEST_LINE = 4096


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class ProbeServer:
    def __init__(self, checks: dict[str, Check]) -> None:
        self.checks = checks

    async def readiness(self) -> dict[str, str]:
        names = list(self.checks)
        results = await asyncio.gather(*(self.checks[name]() for name in names))
        return {name: reason for name, reason in zip(names, results, strict=True) if reason}

    async def answer(self, path: str) -> bytes:
        if path == "/metrics":
            return _response("200 OK", generate_latest(), CONTENT_TYPE_LATEST)
        if path == "/healthz":
            return _response("200 OK", b'{"status":"ok"}', "application/json")
        if path == "/readyz":
            down = await self.readiness()
            body = json.dumps(
                {"status": "not ready", "down": down} if down else {"status": "ready"}
            )
            status = "503 Service Unavailable" if down else "200 OK"
            return _response(status, body.encode(), "application/json")
        return _response("404 Not Found", b'{"detail":"not found"}', "application/json")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            parts = line[:MAX_REQUEST_LINE].decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # headers: nothing here needs them
            writer.write(await self.answer(path))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a probe that hung up or never spoke
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def probe_port(host: str, port: int, checks: dict[str, Check]) -> AsyncIterator[int]:
    """Serve the probes on host:port while the block runs; yields the bound port."""
    probe = ProbeServer(checks)
    server = await asyncio.start_server(probe._handle, host, port, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    log.info("metrics and probes listening", port=bound)
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()
