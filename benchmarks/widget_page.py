"""What a visitor's phone gets: Lighthouse (mobile) on the landing page (the widget) and on
`/embed/{slug}`, against a baseline measured in the same run: a plain page showing the same
images as bare `<img>` tags (no width, height or lazy loading).

Runs `instagram-service demo` (emulator, two accounts, a full sync) in a temporary folder,
then Lighthouse three times on each page and prints the medians. Targets: accessibility 100,
CLS 0, performance >= 95, widget script <= 12 KB gzipped.

    .venv/bin/python benchmarks/widget_page.py
"""

from __future__ import annotations

import gzip
import html
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import brotli
import httpx

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "tests" / "web" / "node" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/lib/chromium/chromium"
WIDGET = ROOT / "src" / "instagram_service" / "web" / "widget" / "widget.js"
RUNS = 3
FEED = "all-studios"  # the demo's merged feed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(folder: Path, port: int) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).with_name("instagram-service")
    env = {**os.environ, "IGS_DATA_DIR": str(folder)}
    env.pop("IGS_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(script), "demo", "--port", str(port), "--data-dir", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the demo exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    process.kill()
    raise SystemExit("the demo did not start within 300 s")


def baseline_page(api: str) -> bytes:
    """The widget's first page of images as bare <img> tags."""
    feed = httpx.get(f"{api}/api/v1/feeds/{FEED}").json()
    tags = "\n".join(
        '<img src="{}" alt="{}">'.format(
            html.escape(post["image"]["urls"]["optimized"]), html.escape(post["alt_text"])
        )
        for post in feed["posts"]["items"]
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Baseline</title>
<link rel="icon" href="data:,"><style>img{{max-width:48%}}</style></head>
<body><main><h1>Our work</h1>{tags}</main></body></html>""".encode()


def serve_bytes(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def lighthouse(url: str, out: Path) -> dict[str, float]:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    flags = "--headless=new --no-sandbox --disable-dev-shm-usage --disable-gpu"
    subprocess.run(
        [str(LIGHTHOUSE), url, f"--chrome-flags={flags}", "--output=json",
         f"--output-path={out}", "--quiet",
         "--only-categories=performance,accessibility,best-practices"],
        env=env, check=True, timeout=180,
    )  # fmt: skip
    report = json.loads(out.read_text())
    cats, audits = report["categories"], report["audits"]
    return {
        "perf": cats["performance"]["score"] * 100,
        "a11y": cats["accessibility"]["score"] * 100,
        "best": cats["best-practices"]["score"] * 100,
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
    }


def medians(url: str, folder: Path, name: str) -> dict[str, float]:
    runs = [lighthouse(url, folder / f"{name}-{i}.json") for i in range(RUNS)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def show(name: str, figures: dict[str, float]) -> None:
    print(
        f"{name:<10} perf {figures['perf']:5.0f}  a11y {figures['a11y']:5.0f}  "
        f"best {figures['best']:5.0f}  LCP {figures['lcp_ms']:7.0f} ms  "
        f"CLS {figures['cls']:.3f}  TBT {figures['tbt_ms']:5.0f} ms"
    )


def main() -> None:
    if not LIGHTHOUSE.exists() or not Path(CHROMIUM).exists():
        raise SystemExit("run scripts/ensure-browser.sh first (chromium and lighthouse)")
    script = WIDGET.read_bytes()
    gz = len(gzip.compress(script, compresslevel=9))
    print(f"widget.js: {len(script)} bytes raw, {gz} gzipped, {len(brotli.compress(script))} br")
    with tempfile.TemporaryDirectory(prefix="widget-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        demo = start_demo(folder / "demo", port)
        api = f"http://127.0.0.1:{port}"
        server, base_url = serve_bytes(baseline_page(api))
        try:
            baseline = medians(base_url, folder, "baseline")
            landing = medians(f"{api}/", folder, "landing")
            embed = medians(f"{api}/embed/{FEED}", folder, "embed")
        finally:
            server.shutdown()
            os.killpg(demo.pid, 15)
            demo.wait(timeout=30)
    print(f"Lighthouse mobile, median of {RUNS} runs each:")
    show("baseline", baseline)
    show("widget (/)", landing)
    show("embed", embed)
    print(f"LCP vs baseline: widget {landing['lcp_ms'] / baseline['lcp_ms']:.2f}x, "
          f"embed {embed['lcp_ms'] / baseline['lcp_ms']:.2f}x")  # fmt: skip
    print(
        f"RESULT perf={landing['perf']:.0f} a11y={landing['a11y']:.0f} cls={landing['cls']:.3f} "
        f"lcp_ms={landing['lcp_ms']:.0f} tbt_ms={landing['tbt_ms']:.0f} "
        f"widget_gz_kb={gz / 1024:.1f} baseline_perf={baseline['perf']:.0f} "
        f"baseline_lcp_ms={baseline['lcp_ms']:.0f}"
    )


if __name__ == "__main__":
    main()
