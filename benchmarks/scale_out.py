"""Scale-out figures, separate processes on loopback (tests/scale/harness.py): posts synced per
second with their images by one worker and by two on the same emulated data, the scheduler's
time per tick with 1,000 accounts due, and a worker's resident memory before and after.

The 2 cores here are shared with the emulator (it draws every image) and the API: the figures
are reported as measured, not tuned to this machine. Baselines from the same run: one worker
for two, a tick with 10 accounts due for the tick with 1,000.

    python benchmarks/scale_out.py [--posts 100] [--admin-url ...] [--base-port 21579]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scale.harness import Cluster, cluster, samples, wait_for  # noqa: E402
from tests.scale.run_scale_out import fresh_database, query  # noqa: E402

ACCOUNTS = 3


def worker_rss_mb(nodes: Cluster, n: int) -> float:
    text = nodes.scrape(nodes.ports.worker_metrics(n))
    return samples(text).get("process_resident_memory_bytes", 0.0) / 1e6


def sync_rate(
    admin_url: str, database: str, base_port: int, posts: int, workers: int
) -> tuple[float, float, float]:
    """(posts per second, worker RSS MB at start, after) for full syncs of ACCOUNTS accounts."""
    plain = admin_url.rsplit("/", 1)[0] + f"/{database}"
    fresh_database(admin_url, database)
    work = Path(tempfile.mkdtemp(prefix="igs-bench-"))
    try:
        url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
        with cluster(work, url, base_port, accounts=ACCOUNTS, posts=posts,
                     scheduler_interval_s=3600) as nodes:  # fmt: skip
            nodes.database_url_plain = plain
            nodes.start_redis()
            nodes.start_emulator()
            nodes.migrate_and_keys()
            nodes.start_api()
            for n in range(1, workers + 1):
                nodes.start_worker(n)
            usernames = nodes.connect_accounts()
            rss_before = worker_rss_mb(nodes, 1)
            started = time.perf_counter()
            job_ids = [nodes.trigger(name) for name in usernames]

            rss_seen: list[float] = []

            def done() -> bool:
                rss_seen.append(worker_rss_mb(nodes, 1))  # flat memory: the peak, not only the end
                return all(nodes.job(j)["status"] in ("COMPLETED", "FAILED") for j in job_ids)

            wait_for("the full syncs", done, timeout=1800, every=0.5)
            elapsed = time.perf_counter() - started
            statuses = {nodes.job(j)["status"] for j in job_ids}
            assert statuses == {"COMPLETED"}, statuses
            stored = query(
                plain, "SELECT count(*) FROM instagram_posts WHERE media_status = 'ready'"
            )
            rss_after = worker_rss_mb(nodes, 1)
            print(
                f"  {workers} worker(s): {ACCOUNTS * posts} posts ({stored[0][0]} with images) "
                f"in {elapsed:.1f} s; worker RSS {rss_before:.0f} -> {rss_after:.0f} MB "
                f"(peak {max(rss_seen, default=rss_after):.0f} MB, at half time "
                f"{rss_seen[len(rss_seen) // 2] if rss_seen else rss_after:.0f} MB)"
            )
            return ACCOUNTS * posts / elapsed, rss_before, rss_after
    finally:
        shutil.rmtree(work, ignore_errors=True)


TICK_ROUNDS = 7


async def _tick_ms(database_url: str, redis_url: str, due: int) -> tuple[float, float]:
    """`sync.scheduler_tick` with `due` accounts due (the query, one job each, the sends):
    (the process's first tick, the median of TICK_ROUNDS ticks after it). Before each round the
    jobs are deleted, so every account is due again; the scheduler is a long-lived process,
    so its steady tick is the figure and the cold first one is printed beside it."""
    os.environ["IGS_DATABASE_URL"] = database_url
    os.environ["IGS_BROKER"] = "redis"
    os.environ["IGS_REDIS_URL"] = redis_url
    os.environ["IGS_TASK_QUEUE"] = "igs:bench:tick"
    from sqlalchemy import delete, func, select

    from instagram_service.migrate import upgrade
    from instagram_service.models import InstagramAccount, SyncJob
    from instagram_service.settings import Settings
    from instagram_service.sync.tasks import scheduler_tick
    from instagram_service.wiring import build_wired
    from instagram_service.worker.broker import broker

    container = build_wired(Settings())
    await upgrade(container.db.engine)
    async with container.db.session() as session:
        session.add_all(
            InstagramAccount(
                instagram_user_id=f"9{due:04d}{i:08d}",
                username=f"bench_{due}_{i}",
                access_token_encrypted=b"-",
            )
            for i in range(due)
        )
    await broker.startup()
    try:
        times: list[float] = []
        for _ in range(TICK_ROUNDS + 1):
            async with container.db.session() as session:
                await session.execute(delete(SyncJob))
            started = time.perf_counter()
            await scheduler_tick.original_func(container)
            times.append((time.perf_counter() - started) * 1000)
        async with container.db.session() as session:
            jobs = await session.scalar(select(func.count()).select_from(SyncJob))
        assert jobs == due, f"a tick with {due} accounts due created {jobs} jobs"
        return times[0], statistics.median(times[1:])
    finally:
        await broker.shutdown()
        await container.aclose()


def tick_ms(admin_url: str, database: str, redis_url: str, due: int) -> tuple[float, float]:
    fresh_database(admin_url, database)
    plain = admin_url.rsplit("/", 1)[0] + f"/{database}"
    url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
    return asyncio.run(_tick_ms(url, redis_url, due))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="igs_bench")
    parser.add_argument("--base-port", type=int, default=21579)
    parser.add_argument("--posts", type=int, default=100, help="Posts per account (3 accounts).")
    args = parser.parse_args()

    print("== posts synced per second, with images ==")
    one, rss_before, rss_after = sync_rate(
        args.admin_url, args.database, args.base_port, args.posts, 1
    )
    two, _, _ = sync_rate(args.admin_url, args.database, args.base_port, args.posts, 2)
    print(f"  1 worker {one:.1f} posts/s, 2 workers {two:.1f} posts/s: ratio {two / one:.2f}")

    print("== scheduler tick with accounts due ==")
    work = Path(tempfile.mkdtemp(prefix="igs-bench-redis-"))
    with cluster(work, "", args.base_port) as nodes:
        nodes.start_redis()
        _, small = tick_ms(args.admin_url, args.database, nodes.redis_url, 10)
        cold, large = tick_ms(args.admin_url, args.database, nodes.redis_url, 1000)
    shutil.rmtree(work, ignore_errors=True)
    print(f"  median of {TICK_ROUNDS} ticks: 10 due {small:.1f} ms; 1,000 due {large:.1f} ms "
          f"(target < 100 ms; the process's first tick {cold:.1f} ms); "
          f"ratio {large / small:.1f} for 100x the accounts")  # fmt: skip
    print(f"  worker RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after "
          f"({ACCOUNTS * args.posts} posts)")  # fmt: skip
    print(
        f"RESULT posts_per_s_1w={one:.1f} posts_per_s_2w={two:.1f} "
        f"scheduler_ms_per_tick_1000={large:.1f} worker_rss_mb={rss_after:.0f}"
    )


if __name__ == "__main__":
    main()
