"""API calls of our syncs against the minimum and the seed's one-call-per-post approach.

Runs the emulator in its own process (so its memory is not ours), and each size's syncs in a
fresh child process (so the peak RSS is that size's own), into a fresh SQLite file without
images (the media seam is off), and counts calls from the emulator's own statistics.
Baseline in the same run: the minimum `1 + ceil(N / page size)` and the seed's approach
(the same list pages plus one details call per post).
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from instagram_service.accounts.service import connect_account
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.migrate import upgrade
from instagram_service.models import InstagramAccount, InstagramPost, SyncType
from instagram_service.security import generate_fernet_key
from instagram_service.settings import Settings
from instagram_service.sync import ports
from instagram_service.sync.engine import SyncContext, run_sync_job
from instagram_service.sync.ports import NoMedia
from instagram_service.sync.service import trigger_sync
from instagram_service.wiring import build_wired

PAGE = 100
SIZES = (100, 1000, 5000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(posts: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "instagram_service.cli", "emulator", "--port", str(port),
           "--scenario", f"generated:{posts}"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/_emulator/stats", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator did not start")


def calls(base: str) -> int:
    return int(httpx.get(f"{base}/_emulator/stats").json()["total_calls"])


async def run_size(posts: int, tmp: Path) -> dict[str, float]:
    proc, base = start_emulator(posts)
    try:
        settings = Settings(
            data_dir=tmp / str(posts),
            graph_base_url=base,
            token_keys=[generate_fernet_key()],
            page_size=PAGE,
        )
        settings.data_dir.mkdir(parents=True)
        runtime = build_wired(settings, Database(settings.database_url))
        await runtime.get(ports.MEDIA).aclose()  # type: ignore[attr-defined]
        runtime.plug(ports.MEDIA, NoMedia())  # calls and rows only: images are elsewhere
        await upgrade(runtime.db.engine)
        token = generate_scenario(1, posts, seed=0).accounts[0].tokens[0].token
        async with runtime.db.session() as session:
            account, _ = await connect_account(session, runtime.client, runtime.cipher, token)

        async def sync(kind: SyncType) -> tuple[int, int, float]:
            async with runtime.db.session() as session:
                stored = await session.get(InstagramAccount, account.id)
                assert stored is not None
                job, _ = await trigger_sync(session, stored, kind)
            before = calls(base)
            started = time.perf_counter()
            finished = await run_sync_job(SyncContext.of(runtime), job.id)
            elapsed = time.perf_counter() - started
            assert finished is not None
            assert finished.status == "COMPLETED", finished.error_message
            changes = finished.posts_added + finished.posts_updated + finished.posts_deleted
            return calls(base) - before, changes, elapsed

        full_calls, full_changes, full_s = await sync(SyncType.FULL)
        second_calls, second_changes, _ = await sync(SyncType.FULL)
        incr_calls, incr_changes, _ = await sync(SyncType.INCREMENTAL)
        async with runtime.db.session() as session:
            stored_posts = await session.scalar(select(func.count()).select_from(InstagramPost))
        assert stored_posts == posts
        await runtime.aclose()
        await runtime.db.dispose()
        return {
            "full": full_calls,
            "min": 1 + math.ceil(posts / PAGE),
            "seed": 1 + math.ceil(posts / PAGE) + posts,
            "second": second_calls,
            "second_changes": second_changes,
            "incr": incr_calls,
            "incr_changes": incr_changes,
            "full_s": full_s,
            "added": full_changes,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def child(posts: int) -> None:
    """One size in this process: print its figures and this process's peak RSS as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run_size(posts, Path(tmp)))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    results: dict[int, dict[str, float]] = {}
    for posts in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--size", str(posts)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[posts] = json.loads(out.strip().splitlines()[-1])
    print(f"page size {PAGE}; calls counted by the emulator")
    header = f"{'posts':>6} {'full':>6} {'minimum':>8} {'seed':>6} {'seed/ours':>9} "
    header += f"{'2nd full':>8} {'2nd changes':>11} {'incr':>5} {'full s':>7} {'posts/s':>8}"
    print(header)
    for posts, r in results.items():
        print(
            f"{posts:>6} {r['full']:>6.0f} {r['min']:>8.0f} {r['seed']:>6.0f} "
            f"{r['seed'] / r['full']:>9.1f} {r['second']:>8.0f} {r['second_changes']:>11.0f} "
            f"{r['incr']:>5.0f} {r['full_s']:>7.2f} {posts / r['full_s']:>8.0f}"
        )
    for posts, r in results.items():
        print(f"peak RSS of the process that synced {posts} posts: {r['peak_rss_mb']:.0f} MB")
    r = results[1000]
    print(f"wall time of a {SIZES[-1]}-post full sync: {results[SIZES[-1]]['full_s']:.2f} s")
    print(
        f"RESULT full_calls_1000={r['full']:.0f} min_calls_1000={r['min']:.0f} "
        f"second_full_changes_1000={r['second_changes']:.0f} "
        f"incremental_calls_unchanged={r['incr']:.0f} "
        f"peak_rss_mb_5000={results[5000]['peak_rss_mb']:.0f}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--size":
        child(int(sys.argv[2]))
    else:
        main()
