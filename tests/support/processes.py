"""A server in a process of its own, for tests and benchmarks: started, polled over HTTP
until it answers, and stopped (terminate, then kill) however the block ends."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import httpx


@contextmanager
def http_process(
    command: Sequence[str],
    probe_url: str,
    *,
    name: str,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    preexec_fn: Callable[[], object] | None = None,
    keep_stderr: bool = False,
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Response]]:
    """Yields the process and its first answer at `probe_url` (any status). If it exits or
    does not answer within `timeout_s`: RuntimeError naming it (with its stderr when kept)."""
    # A file, not a pipe: a pipe nobody reads while the server runs fills up and blocks it,
    # and reading one from a server still running would never end.
    stderr = tempfile.TemporaryFile() if keep_stderr else None
    process = subprocess.Popen(
        list(command), env=env, preexec_fn=preexec_fn, stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                first = httpx.get(probe_url, timeout=10)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = ""
                    if stderr is not None:
                        stderr.seek(0)
                        err = stderr.read().decode(errors="replace")
                    detail = f":\n{err}" if err else ""
                    raise RuntimeError(f"{name} did not start{detail}") from None
                time.sleep(0.1)
        yield process, first
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if stderr is not None:
            stderr.close()
