"""Real-browser helpers: Debian's chromium through Playwright, axe-core, screenshots, a live server.

See ../shared/browser-testing.md for what runs here. Pages are served over real HTTP on loopback
(uvicorn in the test's event loop) so the browser talks to the real app.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("IGS_TEST_CHROMIUM", "/usr/lib/chromium/chromium"))
AXE_JS = ROOT / "tests" / "web" / "node" / "node_modules" / "axe-core" / "axe.min.js"
LIGHTHOUSE = ROOT / "tests" / "web" / "node" / "node_modules" / ".bin" / "lighthouse"
OUTPUT = Path(os.environ.get("IGS_TEST_OUTPUT", ROOT / "test-output"))
SCREENSHOTS = OUTPUT / "screenshots"

# The background-networking flags keep chromium from dialling Google on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def missing_tools() -> str | None:
    """Why browser tests cannot run here, or None (`make test` installs both tools)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run scripts/ensure-browser.sh (apt-get install chromium)"
    if not AXE_JS.exists():
        return f"{AXE_JS} is missing: run scripts/ensure-browser.sh (npm ci in tests/web/node)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app on loopback inside the running loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # re-raises why it could not start
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def axe_violations(page: Page, context: str = "document") -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (it sees inside open shadow roots)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE_JS))
    result = await page.evaluate(
        f"async () => (await axe.run({context}, {{resultTypes: ['violations']}})).violations"
    )
    return [v for v in result if v.get("impact") in {"serious", "critical"}]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable assertion message: rule id, impact and the first offending nodes."""
    lines = []
    for v in violations:
        targets = [str(node.get("target")) for node in v.get("nodes", [])[:3]]
        lines.append(f"{v['id']} ({v['impact']}): {v.get('help')} at {', '.join(targets)}")
    return "\n".join(lines)


# Lazy images below the first screen are loaded: a full-page capture does not scroll, so
# they would show as empty boxes. Returns the sources of the images that failed to load.
_LOAD_EVERY_IMAGE = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  return images.filter((img) => img.naturalWidth === 0).map((img) => img.currentSrc || img.src);
}"""


async def load_every_image(page: Page) -> list[str]:
    """Loads the page's lazy images too; returns the sources of those that did not load."""
    broken: list[str] = await page.evaluate(_LOAD_EVERY_IMAGE)
    return broken


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-output/screenshots/ (look at them: they are the review)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
