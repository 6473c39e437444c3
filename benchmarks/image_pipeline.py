"""Image pipeline benchmark: ours beside the seed's naive pipeline and the floor, same run.

    .venv/bin/python benchmarks/image_pipeline.py

Photograph-like JPEGs (q90) are generated deterministically: gradients, shapes, texture at
several scales and sensor grain. Times per image are medians of interleaved runs, in CPU
time of this process (the pipeline is single-threaded; CPU time counts less of the other
tenants of a shared VM); wall time is printed beside it. Throughput is wall time.
Each run starts from a trimmed heap (gc + malloc_trim), as in a worker that does other work
between images: otherwise glibc's heap state decides whether the seed's 36 MB buffers are
page-faulted afresh, and its 12 MP time swings between ~205 and ~320 ms from run to run.
- seed: open, .convert("RGB"), LANCZOS thumbnail, WebP q85 optimize=True; one full decode
  per variant (the seed's two: thumbnail 300 and optimized 800).
- floor: one draft decode, the same resizes and encodes as ours, nothing else.
- ours: `process_image` making the same two variants (plus its hash, BlurHash, colour).
SSIM is measured on grayscale against an exact reference: a full decode resized with LANCZOS.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import io
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from instagram_service.media.imaging import (
    DRAFT_HEADROOM,
    ImageOptions,
    ProcessedImage,
    VariantSpec,
    _fit,
    process_image,
    resize_down,
)
from instagram_service.media.processor import ImageProcessor

T = TypeVar("T")
SEED_VARIANTS = (VariantSpec("thumbnail", 300), VariantSpec("optimized", 800))
SIZES = {"1080x1350": (1080, 1350, 21), "3024x4032": (3024, 4032, 15)}


def make_photo(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x /= width
    y /= height
    sky = [120 + 90 * x + 30 * np.sin(6 * y), 80 + 120 * y * (1 - x), 140 + 60 * np.sin(3 * x)]
    img = Image.fromarray(np.clip(np.stack(sky, axis=-1), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    side = min(width, height)
    for _ in range(60):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.02, 0.2) * side
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r * rng.uniform(0.4, 1), cx + r, cy + r), fill=colour)
        else:
            angles = np.sort(rng.uniform(0, 2 * math.pi, 5))
            draw.polygon([(cx + r * np.cos(a), cy + r * np.sin(a)) for a in angles], fill=colour)
    pixels = np.asarray(img.filter(ImageFilter.GaussianBlur(side / 500))).astype(np.float32)
    texture = np.zeros((height, width), np.float32)
    for divisor, amplitude in ((64, 10), (12, 8), (3, 6)):  # foliage, fabric, fine detail
        small = rng.normal(0, amplitude, (height // divisor, width // divisor)).astype(np.float32)
        resized = Image.fromarray(small, "F").resize((width, height), Image.Resampling.BICUBIC)
        texture += np.asarray(resized)
    pixels += texture[..., None] + rng.normal(0, 3, pixels.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _blur(a: np.ndarray, sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(a, radius, mode="reflect")
    rows = sum(w * padded[:, i : i + a.shape[1]] for i, w in enumerate(kernel))
    return sum(w * rows[i : i + a.shape[0], :] for i, w in enumerate(kernel))  # type: ignore[return-value]


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Gaussian-window SSIM (sigma 1.5) of two grayscale images, 0..255."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _blur(x), _blur(y)
    vx, vy, cov = _blur(x * x) - mx * mx, _blur(y * y) - my * my, _blur(x * y) - mx * my
    ratio = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(ratio.mean())


def grey(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def seed_pipeline(data: bytes) -> dict[str, bytes]:
    out = {}
    for name, box in (("thumbnail", 300), ("optimized", 800)):
        img = Image.open(io.BytesIO(data)).convert("RGB")
        img.thumbnail((box, box), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        img.save(buffer, "WEBP", quality=85, optimize=True)
        out[name] = buffer.getvalue()
    return out


def floor_pipeline(data: bytes, options: ImageOptions) -> dict[str, bytes]:
    img = Image.open(io.BytesIO(data))
    optimized, thumbnail = _fit(img.size, 800), _fit(img.size, 300)
    img.draft("RGB", tuple(math.ceil(side * DRAFT_HEADROOM) for side in optimized))  # type: ignore[arg-type]
    big = resize_down(img, optimized)
    small = resize_down(big, thumbnail)
    out = {}
    for name, variant in (("optimized", big), ("thumbnail", small)):
        buffer = io.BytesIO()
        variant.save(buffer, "WEBP", quality=options.webp_quality, method=options.webp_method)
        out[name] = buffer.getvalue()
    return out


try:
    LIBC: ctypes.CDLL | None = ctypes.CDLL(None)
except OSError:
    LIBC = None


def trim_heap() -> None:
    gc.collect()
    if LIBC is not None and hasattr(LIBC, "malloc_trim"):  # glibc only
        LIBC.malloc_trim(0)


def timed(fn: Callable[[], T], walls: list[float]) -> tuple[float, T]:
    """CPU milliseconds (returned) and wall milliseconds (appended to walls)."""
    trim_heap()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    walls.append((time.perf_counter() - wall) * 1000)
    return (time.process_time() - cpu) * 1000, result


async def throughput(data: bytes, options: ImageOptions, count: int) -> float:
    workers = os.cpu_count() or 1
    async with ImageProcessor(workers=workers) as processor:
        await asyncio.gather(*(processor.process(data, options) for _ in range(workers)))
        started = time.perf_counter()
        await asyncio.gather(*(processor.process(data, options) for _ in range(count)))
        return count / (time.perf_counter() - started)


def main() -> None:
    options = ImageOptions()  # the service defaults
    two = ImageOptions(variants=SEED_VARIANTS)
    rows = {}
    for label, (width, height, runs) in SIZES.items():
        data = make_photo(width, height, seed=width)
        pipelines: dict[str, Callable[[bytes], object]] = {
            "seed": seed_pipeline,
            "floor": lambda d: floor_pipeline(d, options),
            "ours": lambda d: process_image(d, two),
            "all": lambda d: process_image(d, options),
        }
        outputs = {name: fn(data) for name, fn in pipelines.items()}  # warm up
        times: dict[str, list[float]] = {name: [] for name in pipelines}
        walls: dict[str, list[float]] = {name: [] for name in pipelines}
        names = list(pipelines)
        for run in range(runs):  # interleaved, each first in turn: drift hits all alike
            for name in names[run % 4 :] + names[: run % 4]:
                ms, outputs[name] = timed(lambda f=pipelines[name], d=data: f(d), walls[name])
                times[name].append(ms)
        seed_out = outputs["seed"]
        ours = outputs["ours"]
        assert isinstance(seed_out, dict)
        assert isinstance(ours, ProcessedImage)
        median = {name: statistics.median(values) for name, values in times.items()}
        median |= {f"{name}_wall": statistics.median(values) for name, values in walls.items()}
        full = Image.open(io.BytesIO(data)).convert("RGB")
        ours_opt = ours.variant("optimized").data  # type: ignore[union-attr]
        seed_opt = seed_out["optimized"]

        def quality(webp: bytes, full: Image.Image = full) -> float:
            shown = grey(webp)
            size = (shown.shape[1], shown.shape[0])
            reference = np.asarray(full.resize(size, Image.Resampling.LANCZOS).convert("L"))
            return ssim(reference, shown)

        ours_grey, seed_grey = grey(ours_opt), grey(seed_opt)
        if ours_grey.shape != seed_grey.shape:  # compare at our size
            size = (ours_grey.shape[1], ours_grey.shape[0])
            resized = Image.fromarray(seed_grey).resize(size, Image.Resampling.LANCZOS)
            seed_grey = np.asarray(resized)

        rows[label] = {
            **median,
            "speedup": median["seed"] / median["ours"],
            "speedup_wall": median["seed_wall"] / median["ours_wall"],
            "ssim_ours_vs_seed": ssim(seed_grey, ours_grey),
            "to_floor": median["ours"] / median["floor"],
            "bytes_ours": len(ours_opt),
            "bytes_seed": len(seed_opt),
            "ssim_ours": quality(ours_opt),
            "ssim_seed": quality(seed_opt),
            "ips": asyncio.run(throughput(data, options, 24 if width < 2000 else 12)),
        }

    load = os.getloadavg()[0]
    print(f"WebP q{options.webp_quality} method {options.webp_method}; load average {load:.1f}")
    print(f"{'ms per image, CPU (wall)':36}{'1080x1350':>18}{'3024x4032':>18}")
    lines = [
        ("seed naive, 2 variants", "seed", ""),
        ("floor: draft+resize+encode", "floor", ""),
        ("ours, same 2 variants", "ours", ""),
        ("ours, all variants+hash+colour", "all", ""),
        ("speed-up vs seed, CPU", "speedup", "{:.2f}x"),
        ("speed-up vs seed, wall", "speedup_wall", "{:.2f}x"),
        ("ours / floor", "to_floor", "{:.2f}x"),
        ("optimized bytes, seed", "bytes_seed", "{:,}"),
        ("optimized bytes, ours", "bytes_ours", "{:,}"),
        ("SSIM vs exact LANCZOS, seed", "ssim_seed", "{:.4f}"),
        ("SSIM vs exact LANCZOS, ours", "ssim_ours", "{:.4f}"),
        ("SSIM of ours against the seed's", "ssim_ours_vs_seed", "{:.4f}"),
        (f"img/s, all variants, {os.cpu_count()} processes", "ips", "{:.1f}"),
    ]
    for title, key, fmt in lines:
        if not fmt:
            cells = [f"{rows[s][key]:.1f} ({rows[s][key + '_wall']:.1f})" for s in SIZES]
        else:
            cells = [fmt.format(rows[s][key]) for s in SIZES]
        print(f"{title:36}" + "".join(f"{cell:>18}" for cell in cells))
    small, big = rows["1080x1350"], rows["3024x4032"]
    bytes_ratio = max(r["bytes_ours"] / r["bytes_seed"] for r in rows.values())
    ssim_delta = min(r["ssim_ours"] - r["ssim_seed"] for r in rows.values())
    ratio_to_floor = max(r["to_floor"] for r in rows.values())
    print(
        f"RESULT speedup_vs_seed_1080={small['speedup']:.2f} "
        f"speedup_vs_seed_12mp={big['speedup']:.2f} ratio_to_floor={ratio_to_floor:.2f} "
        f"bytes_ratio={bytes_ratio:.3f} ssim_delta={ssim_delta:+.4f} "
        f"images_per_s_all_cores={small['ips']:.1f}"
    )


if __name__ == "__main__":
    main()
