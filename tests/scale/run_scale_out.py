"""The scale-out run (.ci/run, after the PostgreSQL pass): separate processes on loopback.

1. Redis of its own, the emulator with 3 accounts of 500 posts, one API, the scheduler, two
   workers; full syncs of every account; one worker SIGKILLed in the middle of a walk.
   Every post ends in the database exactly once with its variants on disk, no job stays
   RUNNING, no account's jobs overlap, and the gallery answered with no 5xx throughout.
2. The metrics: the dashboard's and the alerts' queries name only metrics that the real
   scrapes of the API, a worker and the scheduler export.
3. nginx with the shipped deploy/nginx.conf in front of the API: one Cache-Control and the
   image's bytes through it.
4. Redis stopped in the middle of a sync and started again (empty): the API keeps serving the
   gallery and says so in /readyz, workers and scheduler recover by themselves, syncs complete.

python -m tests.scale.run_scale_out --admin-url postgresql://postgres@127.0.0.1:5432/postgres
  --database igs_scale --base-port 21570
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.scale.harness import Cluster, cluster, samples, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMQL_NAME = re.compile(r"\b(igs_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"  ok: {message}")


async def _query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return asyncio.run(_query(url, sql, *args))


def fresh_database(admin_url: str, name: str) -> None:
    query(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    query(admin_url, f'CREATE DATABASE "{name}"')


class GalleryLoad(threading.Thread):
    """A bounded load loop on the public routes: gallery pages and images, counted by status."""

    def __init__(self, base: str, max_requests: int = 200_000, max_seconds: float = 900) -> None:
        super().__init__(daemon=True)
        self.base, self.max_requests, self.max_seconds = base, max_requests, max_seconds
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        with httpx.Client(base_url=self.base, timeout=10) as client:
            images: list[str] = []
            n = 0
            while not self.stopping.is_set() and n < self.max_requests:
                if time.monotonic() - started > self.max_seconds:
                    break
                n += 1
                path = images[n % len(images)] if images and n % 3 == 0 else "/api/v1/gallery"
                try:
                    response = client.get(path)
                except httpx.HTTPError as exc:
                    self.errors.append(f"{path}: {type(exc).__name__}")
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.errors.append(f"{path}: {response.status_code} {response.text[:200]}")
                if path == "/api/v1/gallery" and response.status_code == 200 and n % 25 == 1:
                    items = response.json().get("items") or []
                    images = [i["image"]["urls"]["thumbnail"] for i in items if i.get("image")]
                time.sleep(0.02)

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def jobs_by_status(nodes: Cluster) -> dict[str, int]:
    rows = query(nodes.database_url_plain, "SELECT status, count(*) FROM sync_jobs GROUP BY 1")
    return {row[0]: row[1] for row in rows}


def running_per_account(nodes: Cluster) -> int:
    rows = query(
        nodes.database_url_plain,
        "SELECT account_id, count(*) FROM sync_jobs WHERE status = 'RUNNING' GROUP BY 1",
    )
    return max((row[1] for row in rows), default=0)


def wait_for_accounts(nodes: Cluster, since_job: int, timeout: float) -> tuple[int, list[str]]:
    """Until no account has a job pending or running after `since_job`. A killed worker's job
    ends FAILED when the scheduler reaps it and a `retry` job goes on: the last job of each
    account tells. Returns the most RUNNING jobs of one account seen at once, and the last
    status of each account's jobs."""
    most = 0
    deadline = time.monotonic() + timeout
    sql = "SELECT account_id, status, id FROM sync_jobs WHERE id > $1 ORDER BY account_id, id"
    while time.monotonic() < deadline:
        most = max(most, running_per_account(nodes))
        last: dict[int, str] = {}
        active = False
        for account_id, status, _id in query(nodes.database_url_plain, sql, since_job):
            last[account_id] = status
            active = active or status in ("PENDING", "RUNNING")
        if last and not active:
            return most, [last[a] for a in sorted(last)]
        time.sleep(1)
    raise TimeoutError(f"syncs still not done: {jobs_by_status(nodes)}")


def last_job_id(nodes: Cluster) -> int:
    return int(query(nodes.database_url_plain, "SELECT coalesce(max(id), 0) FROM sync_jobs")[0][0])


def trigger_all(nodes: Cluster, usernames: list[str]) -> int:
    since = last_job_id(nodes)
    for name in usernames:
        nodes.trigger(name)
    return since


def check_posts(nodes: Cluster, usernames: list[str]) -> None:
    url = nodes.database_url_plain
    for username in usernames:
        rows = query(
            url,
            "SELECT count(*), count(DISTINCT p.instagram_id) FROM instagram_posts p "
            "JOIN instagram_accounts a ON a.id = p.account_id "
            "WHERE a.username = $1 AND p.deleted_at IS NULL",
            username,
        )
        total, distinct = rows[0]
        check(total == nodes.posts == distinct, f"@{username}: {total} posts, each once")
    missing, files = 0, 0
    for table in ("instagram_posts", "post_media"):
        for row in query(url, f"SELECT media_status, variants FROM {table}"):  # noqa: S608
            variants = row[1] if isinstance(row[1], dict) else json.loads(row[1] or "{}")
            if row[0] == "ready":
                for entry in variants.values():
                    path = nodes.media_dir / str(entry["key"])
                    files += 1
                    missing += 0 if path.is_file() and path.stat().st_size > 0 else 1
    pending = query(
        url, "SELECT count(*) FROM instagram_posts WHERE media_status IN ('pending', 'failed')"
    )[0][0]
    check(files > 0 and missing == 0, f"{files} variant files on disk, none missing or empty")
    check(pending == 0, "no post waits for its images")


def check_jobs_did_not_overlap(nodes: Cluster) -> None:
    rows = query(
        nodes.database_url_plain,
        "SELECT a.account_id, a.id, b.id FROM sync_jobs a JOIN sync_jobs b "
        "ON a.account_id = b.account_id AND a.id < b.id "
        "WHERE a.started_at < b.completed_at AND b.started_at < a.completed_at",
    )
    check(not rows, "no two jobs of one account ran at the same time")
    running = jobs_by_status(nodes).get("RUNNING", 0)
    check(running == 0, "no job stays RUNNING")


def walk_and_kill(nodes: Cluster, usernames: list[str], load: GalleryLoad) -> None:
    print("== full syncs of every account, a worker SIGKILLed mid-walk ==")
    since = trigger_all(nodes, usernames)

    # The worker with the most posts walked so far (its own metrics port) is the one killed.
    def walking() -> int | None:
        synced = {
            n: samples(nodes.scrape(nodes.ports.worker_metrics(n))).get("igs_posts_synced_total", 0)
            for n in (1, 2)
        }
        busiest = max(synced, key=lambda n: synced[n])
        return busiest if synced[busiest] >= min(60, nodes.posts // 2) else None

    victim = wait_for("a worker in the middle of a walk", walking, timeout=240, every=0.5)
    before = jobs_by_status(nodes)
    nodes.kill(f"worker{victim}")
    print(f"  killed worker {victim} (SIGKILL) with jobs {before}")
    check(before.get("RUNNING", 0) >= 1, "a walk was running when the worker died")
    nodes.start_worker(victim)  # as an orchestrator restarts a dead pod
    most, statuses = wait_for_accounts(nodes, since, timeout=1800)
    check(most <= 1, "at most one RUNNING job per account at every poll")
    check(statuses == ["COMPLETED"] * len(usernames), f"every account's sync completed: {statuses}")
    check_posts(nodes, usernames)
    check_jobs_did_not_overlap(nodes)
    check(load.server_errors == 0, f"gallery load: {dict(load.statuses)}, no 5xx")


def check_metrics(nodes: Cluster) -> None:
    print("== dashboard and alert queries against real scrapes ==")
    exported: set[str] = set()
    scraped = {
        "api": nodes.scrape(nodes.ports.api, key=nodes.read_key),
        "worker": nodes.scrape(nodes.ports.worker_metrics(1)),
        "scheduler": nodes.scrape(nodes.ports.scheduler_metrics),
    }
    for text in scraped.values():  # a declared metric has its TYPE line before any sample
        exported |= set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        exported |= {re.sub(r"_(bucket|count|sum|created)$", "", n) for n in samples(text)}
    worker = samples(scraped["worker"]) | samples(nodes.scrape(nodes.ports.worker_metrics(2)))
    check(worker.get("igs_posts_synced_total", 0) > 0, "a worker exports the sync counters")
    check(worker.get("igs_images_processed_total", 0) > 0, "a worker exports the image counters")
    check(
        samples(scraped["scheduler"]).get("igs_account_sync_interval_seconds", 0) > 0,
        "the scheduler exports the per-account gauges",
    )
    dashboard = json.loads((DEPLOY / "monitoring/grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += re.findall(
        r"expr: *[|>]?\s*\n?((?:.+\n?)+?)\s*for:", (DEPLOY / "monitoring/alerts.yml").read_text()
    )
    named = {m for expr in exprs for m in PROMQL_NAME.findall(expr)}
    unknown = sorted(named - exported)
    check(not unknown, f"all {len(named)} metrics the dashboard and alerts query are exported "
          f"(missing: {unknown})")  # fmt: skip


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():  # said at the start, not after minutes of the run
        raise SystemExit("nginx is not installed: deploy/validate.sh installs it (nginx-light)")
    return nginx


def check_nginx(nodes: Cluster) -> None:
    print("== nginx with deploy/nginx.conf in front of the API ==")
    nginx = nginx_binary()
    work = nodes.work / "nginx"
    work.mkdir(exist_ok=True)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("http://api:8000", nodes.api_url)
    site = site.replace("/data/media/", f"{nodes.media_dir}/")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{nodes.ports.nginx};")
    (work / "site.conf").write_text(site)
    temp = " ".join(
        f"{k}_temp_path {work}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "nginx.conf").write_text(
        f"pid {work}/nginx.pid; error_log {work}/error.log warn; daemon off;\n"
        "events { worker_connections 64; }\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; {temp}\n"
        f"  include {work}/site.conf; }}\n"
    )
    proc = subprocess.Popen(
        [nginx, "-c", f"{work}/nginx.conf", "-p", str(work)], start_new_session=True
    )
    nodes.procs["nginx"] = proc
    base = f"http://127.0.0.1:{nodes.ports.nginx}"
    wait_for("nginx", lambda: httpx.get(f"{base}/healthz").status_code == 200, 20)
    items = httpx.get(f"{base}/api/v1/gallery").json()["items"]
    image = next(i["image"] for i in items if i.get("image"))
    # Public image URLs are absolute (built from the request's host): fetch their path
    # once through nginx and once from the API directly.
    for absolute in (image["urls"]["optimized"], image["urls"]["thumbnail"]):
        url = urlsplit(absolute).path
        through = httpx.get(base + url)
        direct = httpx.get(nodes.api_url + url)
        check(
            through.status_code == 200 and len(through.content) > 0,
            f"{url}: {len(through.content)} bytes through nginx",
        )
        check(
            len(through.headers.get_list("cache-control")) == 1,
            f"one Cache-Control: {through.headers.get('cache-control')}",
        )
        check(through.content == direct.content, "nginx sent the same bytes the API sends directly")
        check(through.headers["content-type"].startswith("image/"), "an image content type")
    nodes.stop_one("nginx")


def redis_outage(nodes: Cluster, usernames: list[str]) -> None:
    print("== Redis stopped in the middle of a sync, then started again (empty) ==")
    httpx.post(
        f"{nodes.api_url}/api/v1/sync/trigger",
        json={"account": usernames[0], "type": "FULL"},
        headers=nodes.admin(),
        timeout=30,
    ).raise_for_status()
    time.sleep(2)
    nodes.stop_redis()
    time.sleep(4)
    gallery = httpx.get(f"{nodes.api_url}/api/v1/gallery", timeout=10)
    check(gallery.status_code == 200, "the gallery is served with Redis down")
    ready = httpx.get(f"{nodes.api_url}/readyz", timeout=10).json()
    check("redis" in ready.get("down", {}), f"/readyz says what is down: {ready}")
    worker_ready = httpx.get(f"http://127.0.0.1:{nodes.ports.worker_metrics(1)}/readyz", timeout=10)
    check(
        worker_ready.status_code == 503 and "redis" in worker_ready.json()["down"],
        "a worker's /readyz says Redis is down",
    )
    log_lines = nodes.log_tail("worker1", 200)
    check("Traceback" not in log_lines, "the worker logs one line per retry, no traceback")
    nodes.start_redis()
    # No manual step: the scheduler's next ticks re-kick pending and stale jobs; new syncs work.
    wait_for(
        "the API's /readyz without Redis down",
        lambda: "redis" not in httpx.get(f"{nodes.api_url}/readyz").json().get("down", {}),
        60,
    )
    since = trigger_all(nodes, usernames)
    _most, statuses = wait_for_accounts(nodes, since, timeout=900)
    check(statuses == ["COMPLETED"] * len(usernames), f"syncs after the outage: {statuses}")
    check_posts(nodes, usernames)
    check_jobs_did_not_overlap(nodes)
    for name in ("worker1", "worker2", "scheduler", "api"):
        check("Traceback" not in nodes.log_tail(name, 400), f"{name}: no traceback in its log")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="igs_scale")
    parser.add_argument("--base-port", type=int, default=21570)
    parser.add_argument("--posts", type=int, default=500, help="Posts per account (3 accounts).")
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    args = parser.parse_args()
    nginx_binary()
    plain = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    fresh_database(args.admin_url, args.database)
    work = Path(tempfile.mkdtemp(prefix="igs-scale-"))
    work.chmod(0o755)  # nginx's workers (not root) read the media below it
    started = time.monotonic()
    url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        with cluster(work, url, args.base_port, posts=args.posts) as nodes:
            nodes.database_url_plain = plain
            nodes.start_redis()
            nodes.start_emulator()
            nodes.migrate_and_keys()
            nodes.start_api()
            nodes.start_scheduler()
            nodes.start_worker(1)
            nodes.start_worker(2)
            usernames = nodes.connect_accounts()
            load = GalleryLoad(nodes.api_url)
            load.start()
            try:
                walk_and_kill(nodes, usernames, load)
                check_metrics(nodes)
                check_nginx(nodes)
                redis_outage(nodes, usernames)
            except BaseException:
                for name in ("api", "worker1", "worker2", "scheduler"):
                    print(f"--- {name} log ---\n{nodes.log_tail(name)}")
                raise
            finally:
                load.stop()
            check(
                load.server_errors == 0, f"gallery load over the whole run: {dict(load.statuses)}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"scale-out run passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
