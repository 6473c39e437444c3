"""A real S3 endpoint for the tests: `moto` in server mode, a separate process on loopback."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.processes import http_process


def free_port(first: int = 21700, last: int = 21799) -> int:
    """A free port in this project's test range, else any free port."""
    for port in [*range(first, last + 1), 0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port")


@contextmanager
def moto_server(*, check_credentials: bool = False) -> Iterator[str]:
    """Start `moto_server` and yield its endpoint URL. With `check_credentials` every key is
    refused (moto's IAM checks with no IAM user created), for the bad-credentials tests."""
    port = free_port()
    env = {**os.environ, "MOTO_CALL_RESET_API": "false"}
    if check_credentials:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    endpoint = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with http_process(command, f"{endpoint}/moto-api/", name="moto server", env=env,
                      timeout_s=30):  # fmt: skip
        yield endpoint


def create_bucket(endpoint: str, name: str | None = None) -> str:
    """A new empty bucket (moto without IAM checks takes an unsigned CreateBucket)."""
    bucket = name or f"igs-{uuid.uuid4().hex[:12]}"
    httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
    return bucket


def allow_public_reads(endpoint: str, bucket: str) -> None:
    """The bucket policy the README gives for a public bucket (or a CDN's origin)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    httpx.put(f"{endpoint}/{bucket}?policy", json=policy, timeout=10).raise_for_status()
