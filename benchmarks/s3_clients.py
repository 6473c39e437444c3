"""Which async S3 client: obstore (what the service uses) against aiobotocore, on the same
moto server on loopback, 200 objects of 60 KB put then got, 8 at a time, two rounds each.

moto answers at its own pace, so requests/s say little; the client CPU per request (all of
the process's threads, `time.process_time`) is what differs. aiobotocore is not one of our
dependencies: `.venv/bin/pip install aiobotocore==3.10.0` to compare (otherwise obstore's
figures alone are printed).

    .venv/bin/python benchmarks/s3_clients.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import obstore
from obstore.store import S3Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.media.s3_server import create_bucket, moto_server  # noqa: E402

N = 200
DATA = [os.urandom(60_000) for _ in range(N)]
Timing = tuple[float, float]  # requests/s, client CPU ms per request


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> Timing:
    slots = asyncio.Semaphore(8)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with slots:
            await call()

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(call) for call in calls))
    return N / (time.perf_counter() - wall), (time.process_time() - cpu) / N * 1000


async def with_obstore(endpoint: str, bucket: str) -> tuple[Timing, Timing]:
    store = S3Store(
        bucket,
        endpoint=endpoint,
        region="us-east-1",
        access_key_id="bench",
        secret_access_key="bench",
        client_options={"allow_http": True},
    )

    async def get(i: int) -> bytes:
        return bytes(await (await obstore.get_async(store, f"k/{i}")).bytes_async())

    put = await timed([lambda i=i: obstore.put_async(store, f"k/{i}", DATA[i]) for i in range(N)])
    return put, await timed([lambda i=i: get(i) for i in range(N)])


async def with_aiobotocore(endpoint: str, bucket: str) -> tuple[Timing, Timing]:
    from aiobotocore.session import get_session

    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    ) as client:

        async def get(i: int) -> bytes:
            response = await client.get_object(Bucket=bucket, Key=f"k/{i}")
            async with response["Body"] as body:
                return bytes(await body.read())

        put = await timed(
            [
                lambda i=i: client.put_object(Bucket=bucket, Key=f"k/{i}", Body=DATA[i])
                for i in range(N)
            ]
        )
        return put, await timed([lambda i=i: get(i) for i in range(N)])


def main() -> None:
    try:
        import aiobotocore  # noqa: F401

        clients = {"obstore": with_obstore, "aiobotocore": with_aiobotocore}
    except ImportError:
        print("aiobotocore not installed: obstore alone")
        clients = {"obstore": with_obstore}
    best: dict[str, tuple[float, float]] = {}
    with moto_server() as endpoint:
        for _round in range(2):
            for name, run in clients.items():
                (put_rate, put_cpu), (get_rate, get_cpu) = asyncio.run(
                    run(endpoint, create_bucket(endpoint))
                )
                print(
                    f"{name:12s} put {put_rate:6.1f}/s {put_cpu:.2f} ms CPU | "
                    f"get {get_rate:6.1f}/s {get_cpu:.2f} ms CPU"
                )
                previous = best.get(name, (1e9, 1e9))
                best[name] = (min(previous[0], put_cpu), min(previous[1], get_cpu))
    line = (
        f"obstore_put_cpu_ms={best['obstore'][0]:.2f} obstore_get_cpu_ms={best['obstore'][1]:.2f}"
    )
    if "aiobotocore" in best:
        put_ratio = best["aiobotocore"][0] / best["obstore"][0]
        get_ratio = best["aiobotocore"][1] / best["obstore"][1]
        print(f"aiobotocore needs {put_ratio:.1f}x the CPU per put, {get_ratio:.1f}x per get")
        line += (
            f" aiobotocore_put_cpu_ratio={put_ratio:.2f} aiobotocore_get_cpu_ratio={get_ratio:.2f}"
        )
    print(f"RESULT {line}")


if __name__ == "__main__":
    main()
