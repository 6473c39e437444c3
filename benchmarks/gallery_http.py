"""The public gallery over HTTP against a minimal route serving the same bytes, same server.

Loads `GET /api/v1/gallery?limit=24` of the real app (500 posts in PostgreSQL when it is
reachable at 127.0.0.1:5432, else SQLite) with wrk, beside a minimal FastAPI route that
returns the same JSON bytes from memory, each on uvicorn and on granian (one worker each:
wrk takes the other core of the 2-vCPU machine). Targets: at least 0.7 of the minimal
route's requests/s, p99 under 50 ms. The feed route (`/api/v1/feeds/{slug}`) is measured the
same way. A plain ASGI callable serving the same bytes (no framework) is the floor beside
them: fresh hits are answered before FastAPI's routing, which the minimal route pays, so
the gallery can pass the minimal route; `floor_ratio` says how far from the floor it is.

The routes are measured in ROUNDS interleaved rounds (each server kept running, the order
rotated every round) and each figure is the median of its rounds, so that one noisy round on
this shared machine cannot decide the ratio. Then, on granian and SQLite (embedded mode), the
gallery is loaded again during a full sync with images (the emulator, standing in for
Instagram's remote CDN, at a low CPU priority), beside its idle figure on the same server, in
SYNC_ROUNDS rounds during one sync (the median reported, each round printed): target p99 under
100 ms during the sync.

    .venv/bin/python benchmarks/gallery_http.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI, Response
from starlette.types import ASGIApp, Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: tests/ too

from tests.support.processes import http_process  # noqa: E402

POSTS = 500
DURATION = "6s"  # of one round
ROUNDS = 3
WARMUP = "2s"
SYNC_POSTS = 200  # of the account synced during the load: its sync outlasts the load
SYNC_DURATION = "6s"  # of one round during the sync
SYNC_ROUNDS = 3
CONNECTIONS = 64
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/igs_bench"
GALLERY = "/api/v1/gallery?limit=24"
FEED = "/api/v1/feeds/bench?limit=24"


# --- The two apps, each served by `server.py` as `instagram-service serve` does ---


def bare_app() -> FastAPI:
    body = Path(os.environ["BENCH_BODY"]).read_bytes()
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> Response:
        return Response(content=body, media_type="application/json")

    return app


def floor_app() -> ASGIApp:
    """The floor: the same bytes from a plain ASGI callable, no framework at all."""
    body = Path(os.environ["BENCH_BODY"]).read_bytes()
    start = {
        "type": "http.response.start", "status": 200,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    reply = {"type": "http.response.body", "body": body}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send(start)
        await send(reply)

    return app


def serve(which: str, server: str, port: int) -> None:
    from instagram_service.server import ServerKind, serve_app, serve_asgi
    from instagram_service.settings import get_settings

    kind = ServerKind(server)
    if which == "service":  # settings from the IGS_* variables the benchmark sets
        serve_app(get_settings(), host="127.0.0.1", port=port, server=kind, log_level="warning")
    else:
        load = bare_app if which == "bare" else floor_app
        serve_asgi(load, host="127.0.0.1", port=port, server=kind, log_level="warning")


# --- Data ---


async def pg_reachable() -> bool:
    try:
        import asyncpg

        connection = await asyncpg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", timeout=3
        )
    except (TimeoutError, OSError, ImportError) as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}): SQLite")
        return False
    await connection.execute("DROP DATABASE IF EXISTS igs_bench WITH (FORCE)")
    await connection.execute("CREATE DATABASE igs_bench")
    await connection.close()
    return True


async def fill(url: str) -> None:
    """500 posts marked READY with variant entries: the gallery reads rows only."""
    from instagram_service.db import Database
    from instagram_service.migrate import upgrade
    from instagram_service.models import InstagramAccount, InstagramPost, MediaStatus, PostMedia

    db = Database(url)
    await upgrade(db.engine)
    rng = random.Random(7)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    words = "balayage glaze kiln layers tone curls clay shine studio fresh mug bowl".split()

    def image(key: str) -> dict[str, object]:
        variants = {
            name: {"key": f"{name}/{key}.webp", "width": w, "height": w * 5 // 4, "format": "webp"}
            for name, w in (("original", 1080), ("thumbnail", 300), ("optimized", 800),
                            ("large", 1080))
        }  # fmt: skip
        return {
            "media_status": MediaStatus.READY, "variants": variants, "image_width": 1080,
            "image_height": 1350, "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "dominant_color": "#a0522d", "content_hash": f"{rng.getrandbits(128):032x}",
        }  # fmt: skip

    async with db.session() as session:
        accounts = [
            InstagramAccount(instagram_user_id=f"1784000000{i}", username=f"studio_{i}",
                             access_token_encrypted=b"-")
            for i in range(2)
        ]  # fmt: skip
        session.add_all(accounts)
        await session.flush()
        for n in range(POSTS):
            carousel = n % 5 == 0
            caption = " ".join(rng.choice(words) for _ in range(18)) + " #hair #salonlife"
            post = InstagramPost(
                instagram_id=f"1790{n:012d}", account_id=accounts[n % 2].id,
                media_type="CAROUSEL_ALBUM" if carousel else "IMAGE",
                permalink=f"https://www.instagram.com/p/P{n}/", caption=caption,
                username=accounts[n % 2].username, like_count=rng.randint(0, 3000),
                comments_count=rng.randint(0, 80), posted_at=start - timedelta(hours=n),
                hashtags=["#hair", "#salonlife"], is_approved=n % 10 != 9,
                is_featured=n % 40 == 0, gallery_category=rng.choice(["portfolio", "general"]),
                **image(f"p{n}"),
            )  # fmt: skip
            if carousel:
                post.children = [
                    PostMedia(position=i, instagram_id=f"1791{n:08d}{i}", media_type="IMAGE",
                              **image(f"p{n}c{i}"))
                    for i in range(3)
                ]  # fmt: skip
            session.add(post)
    await db.dispose()


async def add_feed(url: str) -> None:
    """The feed route's data: one feed merging both accounts."""
    from sqlalchemy import select

    from instagram_service.db import Database
    from instagram_service.feeds.service import create_feed
    from instagram_service.models import InstagramAccount

    db = Database(url)
    async with db.session() as session:
        ids = list(await session.scalars(select(InstagramAccount.id)))
        await create_feed(session, slug="bench", title="Bench", account_ids=ids)
    await db.dispose()


# --- Servers and wrk ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(server: str, which: str, port: int) -> list[str]:
    return [sys.executable, __file__, "--serve", which, server, str(port)]


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, duration: str) -> Result:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        print(f"    wrk socket errors: {socket_errors.group(1)}")
    return Result(rps, to_ms(p50), to_ms(p99), int(errors.group(1)) if errors else 0)


@contextmanager
def running_server(
    server: str, which: str, path: str, env: dict[str, str]
) -> Iterator[tuple[str, bytes]]:
    """One server process, up and warmed: yields its URL for `path` and the first answer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{path}"
    command = server_command(server, which, port)
    with http_process(command, url, name=f"{server} {which}", env=env,
                      keep_stderr=True) as (process, first):  # fmt: skip
        assert first.status_code == 200, first.text
        wrk(url, WARMUP)
        yield url, first.content
        if process.poll() is not None:
            raise RuntimeError(f"{server} {which} died during the run")


def median_result(rounds: list[Result]) -> Result:
    return Result(
        statistics.median(r.rps for r in rounds),
        statistics.median(r.p50_ms for r in rounds),
        statistics.median(r.p99_ms for r in rounds),
        sum(r.errors for r in rounds),
    )


def interleaved(env: dict[str, str], body_path: Path) -> tuple[dict[tuple[str, str], Result], int]:
    """Every (server, route) kept up at once and loaded in turn, ROUNDS times, the order
    rotated each round; returns the median of each, and the JSON's size. The feed route is
    served by the gallery's server and set against the same bare route (its JSON is within
    1 % of the gallery's size), in the same rounds."""
    with contextlib.ExitStack() as stack:
        urls: dict[tuple[str, str], str] = {}
        body = b""
        for server in ("uvicorn", "granian"):
            urls[(server, "gallery")], body = stack.enter_context(
                running_server(server, "service", GALLERY, env)
            )
            urls[(server, "feed")] = urls[(server, "gallery")].replace(GALLERY, FEED)
            assert httpx.get(urls[(server, "feed")], timeout=10).status_code == 200
            wrk(urls[(server, "feed")], WARMUP)
            body_path.write_bytes(body)
            bare_env = env | {"BENCH_BODY": str(body_path)}
            urls[(server, "bare")], same = stack.enter_context(
                running_server(server, "bare", "/bare", bare_env)
            )
            assert same == body
            urls[(server, "floor")], same = stack.enter_context(
                running_server(server, "floor", "/floor", bare_env)
            )
            assert same == body
        order = list(urls)
        runs: dict[tuple[str, str], list[Result]] = {key: [] for key in order}
        ratios: dict[str, list[float]] = {"uvicorn": [], "granian": []}
        feeds: dict[str, list[float]] = {"uvicorn": [], "granian": []}
        for n in range(ROUNDS):
            for key in order[n % len(order) :] + order[: n % len(order)]:
                runs[key].append(wrk(urls[key], DURATION))
            for server in ratios:
                g, b = runs[(server, "gallery")][-1], runs[(server, "bare")][-1]
                ratios[server].append(g.rps / b.rps)
                feeds[server].append(runs[(server, "feed")][-1].rps / b.rps)
            rounded = {s: round(r[-1], 2) for s, r in ratios.items()}
            feed_rounded = {s: round(r[-1], 2) for s, r in feeds.items()}
            print(f"  round {n + 1}: gallery/bare {rounded}, feed/bare {feed_rounded}")
    return {key: median_result(r) for key, r in runs.items()}, len(body)


# --- The gallery during a full sync with images (granian, SQLite, embedded mode) ---


@contextmanager
def running_emulator_process(posts: int) -> Iterator[str]:
    """The emulator in a process of its own at nice 15: Instagram's API and CDN are remote
    in production, so its drawing of images should not take the API's CPU here."""
    port = free_port()
    command = [sys.executable, "-m", "instagram_service.cli", "emulator", "--port", str(port),
               "--scenario", f"generated:{posts}:1"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with http_process(command, f"{base}/emulator/state", name="the emulator",
                      preexec_fn=lambda: os.nice(15)):  # fmt: skip
        yield base


async def admin_key(url: str) -> str:
    from instagram_service.apikeys.service import create_key
    from instagram_service.db import Database

    db = Database(url)
    async with db.session() as session:
        _, key = await create_key(session, name="bench", scope="admin")
    await db.dispose()
    return key


async def gallery_during_sync(tmp: Path) -> tuple[Result, Result, float]:
    """(idle, during the sync (median of the rounds), the worst round's p99) gallery figures
    of one granian server on its own SQLite file with the 500 posts; the synced account adds
    SYNC_POSTS posts with their images."""
    from instagram_service.emulator.generate import generate_scenario
    from instagram_service.security import generate_fernet_key

    folder = tmp / "during-sync"
    folder.mkdir()
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await fill(url)
    key = await admin_key(url)
    token = generate_scenario(1, SYNC_POSTS, seed=0).accounts[0].tokens[0].token
    with running_emulator_process(SYNC_POSTS) as emulator:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")} | {
            "IGS_DATABASE_URL": url,
            "IGS_DATA_DIR": str(folder),
            "IGS_EMBEDDED_SCHEDULER": "false",
            "IGS_TOKEN_KEYS": generate_fernet_key(),
            "IGS_GRAPH_BASE_URL": emulator,
            "IGS_DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "IGS_DOWNLOAD_ALLOW_HTTP": "true",
        }
        with running_server("granian", "service", GALLERY, env) as (gallery_url, _):
            idle = wrk(gallery_url, DURATION)
            base = gallery_url.split("/api/")[0]
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as api:
                added = await api.post("/api/v1/accounts", json={"access_token": token})
                assert added.status_code == 201, added.text
                account = added.json()["id"]
                job = await api.post("/api/v1/sync/trigger", json={"account": str(account),
                                                                  "type": "FULL"})  # fmt: skip
                assert job.status_code == 202, job.text
                job_url = f"/api/v1/sync/jobs/{job.json()['id']}"
                started = time.monotonic()
                rounds: list[Result] = []
                for n in range(SYNC_ROUNDS):  # the median: one noisy round cannot decide
                    rounds.append(await asyncio.to_thread(wrk, gallery_url, SYNC_DURATION))
                    print(f"  during the sync, round {n + 1}: p99 {rounds[-1].p99_ms:.1f} ms")
                busy = median_result(rounds)
                during = (await api.get(job_url)).json()
                took = time.monotonic() - started
    print(
        f"\nduring the {took:.0f} s of load the full sync ({SYNC_POSTS} posts with images) "
        f"stayed {during['status']}: {during['posts_processed']} posts stored"
    )
    if during["status"] != "RUNNING":
        print("  WARNING: the sync ended before the load did: raise SYNC_POSTS")
    return idle, busy, max(r.p99_ms for r in rounds)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (apt-get update; apt-get install -y wrk)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    # A fresh machine has empty package lists: install alone would find no wrk.
    subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True, env=env)


def main() -> None:
    ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="igs-bench-"))
    url = PG_URL if asyncio.run(pg_reachable()) else f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    started = time.perf_counter()
    asyncio.run(fill(url))
    asyncio.run(add_feed(url))
    print(f"{POSTS} posts in {url.split('://')[0]} ({time.perf_counter() - started:.1f} s)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGS_")} | {
        "IGS_DATABASE_URL": url,
        "IGS_DATA_DIR": str(tmp),
        "IGS_EMBEDDED_SCHEDULER": "false",
    }
    results, size = interleaved(env, tmp / "body.json")
    print(f"\nwrk -t2 -c{CONNECTIONS} -d{DURATION} x {ROUNDS} rounds (medians), {size} B JSON")
    print(f"{'server':8} {'route':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for (server, route), r in results.items():
        print(f"{server:8} {route:8} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:8}")
    best = max(("uvicorn", "granian"), key=lambda s: results[(s, "gallery")].rps)
    gallery, bare = results[(best, "gallery")], results[(best, "bare")]
    for server in ("uvicorn", "granian"):
        g, b = results[(server, "gallery")], results[(server, "bare")]
        verdict = "ok" if g.rps >= 0.7 * b.rps and g.p99_ms < 50 else "BELOW TARGET"
        print(f"{server}: gallery/bare {g.rps / b.rps:.2f}, p99 {g.p99_ms:.1f} ms: {verdict}")
    feed, feed_bare = results[(best, "feed")], results[(best, "bare")]
    verdict = "ok" if feed.rps >= 0.7 * feed_bare.rps and feed.p99_ms < 50 else "BELOW TARGET"
    print(f"{best} feed: {feed.rps:.0f} req/s, ratio {feed.rps / feed_bare.rps:.2f} of the bare "
          f"route, p99 {feed.p99_ms:.1f} ms: {verdict}")  # fmt: skip
    floor = results[(best, "floor")]
    print(f"{best} floor (plain ASGI, same bytes): {floor.rps:.0f} req/s; the gallery "
          f"{gallery.rps / floor.rps:.2f} of it, the feed {feed.rps / floor.rps:.2f}")  # fmt: skip
    idle, busy, worst = asyncio.run(gallery_during_sync(tmp))
    verdict = "ok" if worst < 100 else "BELOW TARGET"
    print(
        f"granian, SQLite, during a full sync with images (median of {SYNC_ROUNDS} rounds): "
        f"p50 {busy.p50_ms:.1f} ms, worst round's p99 {worst:.1f} ms, "
        f"p99 {busy.p99_ms:.1f} ms ({busy.rps:.0f} req/s; idle p99 {idle.p99_ms:.1f} ms): {verdict}"
    )
    print(
        f"RESULT rps={gallery.rps:.0f} bare_rps={bare.rps:.0f} "
        f"ratio={gallery.rps / bare.rps:.2f} p99_ms={gallery.p99_ms:.1f} server={best} "
        f"sync_p99_ms={busy.p99_ms:.1f} sync_worst_p99_ms={worst:.1f} "
        f"sync_p50_ms={busy.p50_ms:.1f} "
        f"sync_idle_p99_ms={idle.p99_ms:.1f} "
        f"feed_rps={feed.rps:.0f} feed_ratio={feed.rps / feed_bare.rps:.2f} "
        f"floor_rps={floor.rps:.0f} floor_ratio={gallery.rps / floor.rps:.2f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
