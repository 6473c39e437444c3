"""Separate processes on loopback for the scale-out run and its benchmark: a Redis of its own,
the emulator, one API, the scheduler and N workers on the Redis broker, PostgreSQL underneath.

Each process runs the real `instagram-service` command with the scaled-mode settings of
deploy/ (IGS_BROKER=redis, a metrics port per worker and the scheduler)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from instagram_service.emulator.generate import generate_scenario

CLI = [sys.executable, "-m", "instagram_service.cli"]


def wait_for(what: str, ready: Any, timeout: float = 60.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = ready()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:g} s")
        time.sleep(every)


def port_open(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Ports:
    base: int  # a block of 20 free ports from here

    @property
    def redis(self) -> int:
        return self.base

    @property
    def emulator(self) -> int:
        return self.base + 1

    @property
    def api(self) -> int:
        return self.base + 2

    @property
    def nginx(self) -> int:
        return self.base + 3

    @property
    def scheduler_metrics(self) -> int:
        return self.base + 9

    def worker_metrics(self, n: int) -> int:
        return self.base + 10 + n


@dataclass
class Cluster:
    """The processes; `stop()` ends every one this object started (by process group)."""

    work: Path
    database_url: str
    ports: Ports
    database_url_plain: str = ""  # the same database for asyncpg (the checks)
    accounts: int = 3
    posts: int = 500
    scheduler_interval_s: int = 2
    heartbeat_timeout_s: int = 30
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    admin_key: str = ""
    read_key: str = ""
    tokens: list[str] = field(default_factory=list)
    token_key: str = field(default_factory=lambda: Fernet.generate_key().decode())

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.redis}/0"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def media_dir(self) -> Path:
        return self.work / "media"

    def env(self, **extra: str) -> dict[str, str]:
        emulator = f"http://127.0.0.1:{self.ports.emulator}"
        keep = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")}
        return {
            **keep,
            "IGS_DATABASE_URL": self.database_url,
            "IGS_BROKER": "redis",
            "IGS_REDIS_URL": self.redis_url,
            "IGS_DATA_DIR": str(self.work),
            "IGS_MEDIA_DIR": str(self.media_dir),
            "IGS_GRAPH_BASE_URL": emulator,
            "IGS_OAUTH_TOKEN_URL": f"{emulator}/oauth/access_token",
            "IGS_AUTHORIZE_URL": f"{emulator}/oauth/authorize",
            "IGS_APP_ID": "1000000000000001",
            "IGS_APP_SECRET": "emulator-app-secret",
            "IGS_DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "IGS_DOWNLOAD_ALLOW_HTTP": "true",
            "IGS_TOKEN_KEYS": self.token_key,
            "IGS_SCHEDULER_INTERVAL_S": str(self.scheduler_interval_s),
            "IGS_JOB_HEARTBEAT_TIMEOUT_S": str(self.heartbeat_timeout_s),
            "IGS_IMAGE_WORKERS": "1",
            "IGS_PAGE_SIZE": "25",  # a heartbeat every 25 posts with their images
            "IGS_WEBP_METHOD": "0",
            "IGS_API_RETRY_BASE_S": "0.05",
            "IGS_MEDIA_ACCEL_REDIRECT_PREFIX": "/protected-media/",
            **extra,
        }

    def _start(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            command, env=self.env(**env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.work,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [*CLI, *args], env=self.env(), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    # -- the processes ---------------------------------------------------------------------
    def start_redis(self) -> None:
        self._start(
            "redis",
            ["redis-server", "--port", str(self.ports.redis), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.work)],
        )  # fmt: skip
        wait_for("redis", lambda: port_open(self.ports.redis), 20)

    def stop_redis(self) -> None:
        self.stop_one("redis")

    def start_emulator(self) -> None:
        scenario = generate_scenario(self.accounts, self.posts, seed=15)
        self.tokens = [account.tokens[0].token for account in scenario.accounts]
        path = self.work / "scenario.json"
        path.write_text(scenario.to_json())
        self._start("emulator", [*CLI, "emulator", "--port", str(self.ports.emulator),
                                 "--scenario", str(path)])  # fmt: skip
        wait_for("emulator", lambda: port_open(self.ports.emulator), 60)

    def migrate_and_keys(self) -> None:
        self._run("migrate")
        self.admin_key = self._run("keys", "create", "--scope", "admin", "--name", "scale")
        self.admin_key = self.admin_key.strip().splitlines()[-1]
        self.read_key = self._run("keys", "create", "--scope", "read", "--name", "prometheus")
        self.read_key = self.read_key.strip().splitlines()[-1]

    def start_api(self) -> None:
        self._start("api", [*CLI, "serve", "--port", str(self.ports.api)])
        wait_for("api", lambda: httpx.get(f"{self.api_url}/healthz").status_code == 200, 60)

    def start_scheduler(self) -> None:
        port = self.ports.scheduler_metrics
        self._start("scheduler", [*CLI, "scheduler"], IGS_METRICS_PORT=str(port))
        wait_for("scheduler", lambda: port_open(port), 60)

    def start_worker(self, n: int) -> None:
        port = self.ports.worker_metrics(n)
        self._start(f"worker{n}", [*CLI, "worker", "--processes", "1"], IGS_METRICS_PORT=str(port))
        wait_for(f"worker {n}", lambda: port_open(port), 60)

    def kill(self, name: str) -> None:
        """SIGKILL the process group: the worker and its image process pool, no cleanup."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        for name in [n for n in self.procs if n != "redis"] + ["redis"]:
            self.stop_one(name)

    # -- the API ---------------------------------------------------------------------------
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def connect_accounts(self) -> list[str]:
        names = []
        for token in self.tokens:
            added = httpx.post(
                f"{self.api_url}/api/v1/accounts", json={"access_token": token},
                headers=self.admin(), timeout=30,
            )  # fmt: skip
            added.raise_for_status()
            names.append(added.json()["username"])
        return names

    def trigger(self, username: str, sync_type: str = "FULL") -> int:
        response = httpx.post(
            f"{self.api_url}/api/v1/sync/trigger", json={"account": username, "type": sync_type},
            headers=self.admin(), timeout=30,
        )  # fmt: skip
        response.raise_for_status()
        return int(response.json()["id"])

    def job(self, job_id: int) -> dict[str, Any]:
        response = httpx.get(
            f"{self.api_url}/api/v1/sync/jobs/{job_id}", headers=self.admin(), timeout=30
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def scrape(self, port: int, *, key: str | None = None) -> str:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=10).text

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.work / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )


METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", re.M)


def samples(text: str) -> dict[str, float]:
    """Sum of a metric's samples by name (labels folded)."""
    totals: dict[str, float] = {}
    for name, _labels, value in METRIC_LINE.findall(text):
        totals[name] = totals.get(name, 0.0) + float(value)
    return totals


@contextlib.contextmanager
def cluster(work: Path, database_url: str, base_port: int, **options: Any) -> Iterator[Cluster]:
    nodes = Cluster(work=work, database_url=database_url, ports=Ports(base_port), **options)
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield nodes
    finally:
        nodes.stop()
