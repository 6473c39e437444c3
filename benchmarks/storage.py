"""Media storage throughput: 200 variants written and read on the local folder and on an S3
bucket (moto in server mode on loopback, started here), in one run; then the two ways the
image routes could serve a bucket without IGS_MEDIA_PUBLIC_URL, over real HTTP: streaming
through the API, or a 307 to a presigned URL that the client follows.

moto is a single-threaded Python server, so the S3 figures are a floor set by the server,
not by our client: a real S3 or MinIO answers faster. The ratios against the local folder
(same run, same machine) are what to compare.

    .venv/bin/python benchmarks/storage.py
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import obstore
import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.media.s3_server import create_bucket, free_port, moto_server  # noqa: E402

from instagram_service.media.s3_storage import S3Storage  # noqa: E402
from instagram_service.media.storage import LocalStorage, Storage, content_key  # noqa: E402
from instagram_service.settings import Settings, StorageKind  # noqa: E402

VARIANTS = 200
CONCURRENCY = 8
# thumbnail, optimized, large: the sizes the pipeline writes for a typical photo
SIZES = {"thumbnails": 15_000, "optimized": 60_000, "large": 120_000}


def variants() -> list[tuple[str, bytes]]:
    rng = random.Random(7)
    out = []
    for n in range(VARIANTS):
        folder = list(SIZES)[n % 3]
        data = rng.randbytes(SIZES[folder])
        out.append((content_key(folder, f"1790{n:06d}", data, "webp"), data))
    return out


async def bounded(calls: list[Callable[[], Awaitable[object]]]) -> float:
    """Seconds for all calls, CONCURRENCY at a time."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with slots:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(one(call) for call in calls))
    return time.perf_counter() - start


async def put_get(store: Storage, items: list[tuple[str, bytes]]) -> tuple[float, float]:
    put = await bounded([lambda k=k, d=d: store.save(k, d) for k, d in items])
    get = await bounded([lambda k=k: store.read(k) for k, _ in items])
    for key, data in items[:10]:
        assert await store.read(key) == data
    return VARIANTS / put, VARIANTS / get


def serving_app(store: S3Storage) -> FastAPI:
    app = FastAPI()

    @app.get("/stream/{key:path}")
    async def stream(key: str) -> StreamingResponse:
        size, chunks = await store.open(key)
        return StreamingResponse(chunks, headers={"Content-Length": str(size)})

    @app.get("/redirect/{key:path}")
    async def redirect(key: str) -> RedirectResponse:
        url = await obstore.sign_async(store.store, "GET", key, timedelta(minutes=10))
        return RedirectResponse(url, status_code=307)

    return app


async def serving(store: S3Storage, items: list[tuple[str, bytes]]) -> tuple[float, float]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(serving_app(store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.05)
    rates = []
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", follow_redirects=True, timeout=30
        ) as http:
            for way in ("stream", "redirect"):

                async def fetch(key: str, way: str = way) -> None:
                    response = await http.get(f"/{way}/{key}")
                    response.raise_for_status()

                await fetch(items[0][0])  # warm
                seconds = await bounded([lambda k=k: fetch(k) for k, _ in items])
                rates.append(VARIANTS / seconds)
    finally:
        server.should_exit = True
        thread.join(10)
    return rates[0], rates[1]


async def main() -> None:
    items = variants()
    mb = sum(len(d) for _, d in items) / 1e6
    print(f"{VARIANTS} variants, {mb:.1f} MB, {CONCURRENCY} at a time")
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        local_put, local_get = await put_get(LocalStorage(Path(tmp) / "media"), items)
        settings = Settings(
            data_dir=Path(tmp),
            storage=StorageKind.S3,
            s3_bucket=create_bucket(endpoint),
            s3_endpoint_url=endpoint,
            s3_region="us-east-1",
            s3_prefix="media",
            s3_access_key_id="bench",
            s3_secret_access_key=SecretStr("bench"),
        )
        s3 = S3Storage(settings)
        s3_put, s3_get = await put_get(s3, items)
        streamed, redirected = await serving(s3, items)
    print(f"local folder  put {local_put:8.1f}/s   get {local_get:8.1f}/s")
    print(f"S3 (moto)     put {s3_put:8.1f}/s   get {s3_get:8.1f}/s")
    print(f"  ratio S3/local: put {s3_put / local_put:.3f}, get {s3_get / local_get:.3f}")
    print(
        f"serving from the bucket over HTTP: streamed {streamed:.1f} images/s, "
        f"307 to a presigned URL {redirected:.1f} images/s "
        f"(ratio {redirected / streamed:.2f})"
    )
    result = f"s3_put_per_s={s3_put:.1f} local_put_per_s={local_put:.1f} s3_get_per_s={s3_get:.1f}"
    print(f"RESULT {result}")


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    asyncio.run(main())
