"""`instagram-service demo` as a user runs it: start, browse, Ctrl-C, start again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT_S = 300  # the demo syncs 3 accounts with images first; CI shares 2 cores


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    log: Path
    base_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command() -> list[str]:
    script = Path(sys.executable).with_name("instagram-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "instagram_service.cli"]


def wait_for_gallery(demo: Demo) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(f"the demo exited with {demo.process.returncode}:\n{demo.output()}")
        try:
            response = httpx.get(f"{demo.base_url}/api/v1/gallery", timeout=5)
            if response.status_code == 200:
                page: dict[str, Any] = response.json()
                return page
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no gallery after {START_TIMEOUT_S} s:\n{demo.output()}")


@contextmanager
def running_demo(data_dir: Path, log: Path) -> Iterator[Demo]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command(), "demo", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            yield Demo(process, log, f"http://127.0.0.1:{port}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def stop(demo: Demo) -> None:
    demo.process.send_signal(signal.SIGINT)
    try:
        code = demo.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not stop on Ctrl-C:\n{demo.output()}")
    assert code == 0, demo.output()


def admin_key(output: str) -> str:
    keys = re.findall(r"^(igs_[\w-]{20,})\s*$", output, re.MULTILINE)
    assert keys, output
    return str(keys[-1])


def test_demo_runs_stops_and_reuses_its_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    with running_demo(data_dir, tmp_path / "first.log") as demo:
        gallery = wait_for_gallery(demo)
        assert gallery["total"] >= 60
        assert len(gallery["items"]) == 24
        key = admin_key(demo.output())
        posts = httpx.get(
            f"{demo.base_url}/api/v1/posts", headers={"Authorization": f"Bearer {key}"}
        )
        assert posts.status_code == 200
        assert posts.json()["total"] >= gallery["total"]
        assert httpx.get(f"{demo.base_url}/api/v1/posts").status_code == 401
        stop(demo)
    first = demo.output()
    assert "running a full sync" in first
    assert "demo stopped" in first
    # For a person at 80 columns: the demo's own lines only, none wider.
    assert "[info" not in first
    assert not [line for line in first.splitlines() if len(line) > 80]

    with running_demo(data_dir, tmp_path / "second.log") as demo:
        again = wait_for_gallery(demo)
        assert again["total"] == gallery["total"]
        assert [i["id"] for i in again["items"]] == [i["id"] for i in gallery["items"]]
        assert "running an incremental sync" in demo.output()
        assert "(new)" not in demo.output()  # the accounts were kept
        stop(demo)
