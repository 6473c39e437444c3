"""The emulator as its own process, as `instagram-service emulator` starts it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_emulator_in_a_process() -> None:
    port = free_port()
    code = (
        "from instagram_service.emulator.server import run_emulator; "
        f"run_emulator({port}, 'generated:30:2')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
                assert process.poll() is None, "the emulator exited"
                time.sleep(0.1)
        assert stats.json()["total_calls"] == 0
        scenario = httpx.get(f"http://127.0.0.1:{port}/_emulator/scenario").json()
        token = scenario["accounts"][1]["tokens"][0]["token"]
        media = httpx.get(f"http://127.0.0.1:{port}/v25.0/me/media",
                          params={"access_token": token, "limit": 100}).json()  # fmt: skip
        assert len(media["data"]) == 30
    finally:
        process.terminate()
        process.wait(timeout=10)
