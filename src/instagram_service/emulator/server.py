"""Run the emulator: as its own process (`run_emulator`) or in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from instagram_service.emulator.app import create_emulator_app
from instagram_service.emulator.generate import load_scenario
from instagram_service.emulator.scenario import Scenario
from instagram_service.emulator.state import EmulatorState
from instagram_service.settings import Settings


def run_emulator(port: int, scenario: str, host: str = "127.0.0.1") -> None:
    """Serve `scenario` (`demo`, a JSON path, `generated:N[:ACCOUNTS]`) until interrupted."""
    app = create_emulator_app(load_scenario(scenario))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


@dataclass
class EmulatorHandle:
    base_url: str
    state: EmulatorState

    def settings(self, **overrides: Any) -> Settings:
        """Service settings that point every Instagram URL at this emulator."""
        values: dict[str, Any] = {
            "graph_base_url": self.base_url,
            "oauth_token_url": f"{self.base_url}/oauth/access_token",
            "authorize_url": f"{self.base_url}/oauth/authorize",
            "app_id": self.state.scenario.app_id,
            "app_secret": self.state.scenario.app_secret,
            "download_allowed_hosts": ["127.0.0.1"],
            "download_allow_http": True,
            **overrides,
        }
        return Settings(**values)


@contextmanager
def serve_in_thread(app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve any ASGI app with uvicorn on a loopback port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off",
        timeout_graceful_shutdown=1, timeout_keep_alive=30,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="emulator-server")  # fmt: skip
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_emulator(
    state: EmulatorState | Scenario | str, port: int = 0, host: str = "127.0.0.1"
) -> Iterator[EmulatorHandle]:
    """Serve the emulator on a loopback port (0: any free one) in a thread; stop on exit."""
    if not isinstance(state, EmulatorState):
        state = EmulatorState(state if isinstance(state, Scenario) else load_scenario(state))
    with serve_in_thread(create_emulator_app(state), port, host) as base_url:
        yield EmulatorHandle(base_url, state)
