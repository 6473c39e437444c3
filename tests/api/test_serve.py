"""`instagram-service serve` on each server: answers, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import cli_command, free_port


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    env |= {"IGS_DATA_DIR": str(tmp_path), "IGS_EMBEDDED_SCHEDULER": "false"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*cli_command(), "serve", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_serve(tmp_path: Path, server: str) -> None:
    port = free_port()
    process, log = start(tmp_path, "--port", str(port), "--server", server)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        gallery = httpx.get(f"{base}/api/v1/gallery")
        assert gallery.status_code == 200
        assert gallery.json()["total"] == 0
        etag = {"If-None-Match": gallery.headers["etag"]}
        again = httpx.get(f"{base}/api/v1/gallery", headers=etag)
        assert again.status_code == 304
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_unknown_server(tmp_path: Path) -> None:
    process, log = start(tmp_path, "--server", "nginx")
    assert process.wait(timeout=30) == 2
    assert "unknown server 'nginx'" in log.read_text()
