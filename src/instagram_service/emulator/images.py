"""Deterministic photo-like JPEGs: gradients, soft shapes, vignette and grain.

Rendered lazily when the CDN is asked for a file and cached, so that scenarios with thousands
of media build instantly. The same key always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

SIZES = {
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "story": (1080, 1920),
    "landscape": (1080, 566),
}
_SCALE = 6  # shapes and light are drawn at 1/6 size, then smoothly upscaled

_PALETTES = [
    ((244, 222, 205), (140, 92, 74), (60, 42, 38)),  # warm salon
    ((214, 229, 236), (96, 130, 150), (30, 44, 58)),  # cool studio
    ((238, 232, 215), (170, 150, 110), (70, 62, 48)),  # linen and clay
    ((250, 214, 220), (200, 110, 130), (80, 40, 52)),  # blush
    ((220, 236, 214), (110, 150, 100), (40, 60, 36)),  # plants
    ((240, 240, 236), (150, 150, 146), (36, 36, 40)),  # monochrome
]


def _rng(key: str) -> np.random.Generator:
    digest = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


@lru_cache(maxsize=8)
def _grain(width: int, height: int) -> Image.Image:
    # Film grain around 128, reused by every image of a size; added with an offset of -128.
    noise = np.random.default_rng(width * 7919 + height).normal(128.0, 9.0, (height, width, 1))
    return Image.fromarray(np.repeat(np.clip(noise, 0, 255).astype(np.uint8), 3, axis=2), "RGB")


def _base(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    light, mid, dark = (np.array(c, dtype=np.float32) for c in _PALETTES[rng.integers(6)])
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    horizon = rng.uniform(0.35, 0.7)
    top = light + (mid - light) * (y / horizon)
    bottom = mid + (dark - mid) * ((y - horizon) / (1 - horizon))
    img = np.where(y < horizon, top, bottom) + np.zeros((1, w, 1), dtype=np.float32)
    for _ in range(int(rng.integers(4, 9))):
        cx, cy = rng.uniform(0, 1), rng.uniform(0.1, 1)
        rx, ry = rng.uniform(0.06, 0.3), rng.uniform(0.06, 0.35)
        colour = (light, mid, dark)[int(rng.integers(3))] * rng.uniform(0.7, 1.15)
        colour = colour + rng.normal(0, 25, size=3).astype(np.float32)
        d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
        alpha = np.clip(1.2 - d, 0.0, 1.0) * rng.uniform(0.35, 0.85)
        img = img * (1 - alpha) + colour * alpha
    # A soft light source and a vignette, as a lens would give.
    lx, ly = rng.uniform(0.2, 0.8), rng.uniform(0.0, 0.4)
    glow = np.exp(-(((x - lx) ** 2 + (y - ly) ** 2) / 0.08)) * 50
    vignette = 1 - 0.45 * (((x - 0.5) ** 2 + (y - 0.5) ** 2) / 0.5)
    result: np.ndarray = (img + glow) * vignette
    return result


def _draw_objects(img: Image.Image, rng: np.random.Generator, small: np.ndarray) -> None:
    # Hard edges (a table line, a vase, a frame) so the picture is not only soft blobs.
    draw = ImageDraw.Draw(img, "RGBA")
    w, h = img.size
    shade = tuple(int(v) for v in rng.integers(10, 90, size=3))
    table = int(h * rng.uniform(0.62, 0.85))
    draw.rectangle((0, table, w, h), fill=(*shade, 110))
    for _ in range(int(rng.integers(1, 4))):
        cx, bw = int(rng.uniform(0.15, 0.85) * w), int(rng.uniform(0.06, 0.2) * w)
        top = int(table - rng.uniform(0.15, 0.45) * h)
        # Objects take a colour of the scene, darkened or lightened, as real props would.
        sample = small[int(rng.integers(small.shape[0])), int(rng.integers(small.shape[1]))]
        tone = tuple(int(v) for v in np.clip(sample * rng.uniform(0.4, 1.3), 0, 255))
        draw.rounded_rectangle(
            (cx - bw, top, cx + bw, table + 4), radius=bw // 2, fill=(*tone, 200)
        )
        draw.ellipse((cx - bw // 2, top - bw // 3, cx + bw // 2, top + bw // 3), fill=(*tone, 230))


@lru_cache(maxsize=48)
def render_jpeg(key: str, width: int, height: int, quality: int = 85) -> bytes:
    """A JPEG of exactly width x height that looks like a photograph in character."""
    rng = _rng(key)
    small = _base(rng, max(8, width // _SCALE), max(8, height // _SCALE))
    small_img = Image.fromarray(np.clip(small, 0, 255).astype(np.uint8), "RGB")
    out = small_img.resize((width, height), Image.Resampling.BILINEAR)
    _draw_objects(out, rng, small)
    out = ImageChops.add(out, _grain(width, height), scale=1.0, offset=-128)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


# A tiny MP4 header: enough for a sniffing downloader to see a video, not a playable file.
FAKE_MP4 = (
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    b"\x00\x00\x00\x08free" + b"\x00\x00\x00\x10mdat" + bytes(8)
)
