"""Image variants: decode once, orient, normalise colour, resize down a chain, encode.

`process_image` takes and returns plain picklable values so that it runs in a worker process
(see `processor.py`). It never writes anything: storing the result is `storage.py`'s job.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import warnings
from contextlib import suppress
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import blurhash
import numpy as np
from PIL import Image, ImageCms, ImageColor, ImageOps, UnidentifiedImageError, features

from instagram_service.media.errors import ImageRejected
from instagram_service.media.formats import declared_size, sniff_image

if TYPE_CHECKING:
    from instagram_service.settings import Settings

try:  # iPhone HEIC, when the optional pillow-heif is installed
    from pillow_heif import register_heif_opener
except ImportError:
    HEIF_SUPPORTED = False
else:
    register_heif_opener()
    HEIF_SUPPORTED = True

# Decoders we let near untrusted bytes (MPO opens as JPEG); EPS (Ghostscript), TIFF... stay out.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", *(("HEIF",) if HEIF_SUPPORTED else ()))
EXTENSIONS = {"jpeg": "jpg", "mpo": "jpg", "png": "png", "gif": "gif", "webp": "webp"}
EXTENSIONS |= {"avif": "avif", "heif": "heic"}
CONTENT_TYPES = {
    "webp": "image/webp",
    "avif": "image/avif",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "heic": "image/heic",
}

# BICUBIC: SSIM 0.997 of LANCZOS at ~60 % of its cost (benchmarks/image_pipeline.py, README).
RESAMPLE = Image.Resampling.BICUBIC
# From 2.5x down: box-reduce by an integer first, then a short LANCZOS step. 12 MP -> 800 px
# in 17 ms instead of 26 ms (BICUBIC) for the same SSIM and bytes.
REDUCING_GAP = 1.25
# JPEG DCT scaling to >= 1.5x the largest target: quality-neutral, 2-4x less to decode.
DRAFT_HEADROOM = 1.5
BLURHASH_SIZE = 32
MAX_GIF_FRAMES = 10_000
_SRGB = ImageCms.createProfile("sRGB")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


@dataclass(frozen=True, slots=True)
class VariantSpec:
    name: str
    box: int
    only_if_larger_than: int = 0  # made only when the original's long side exceeds this


DEFAULT_VARIANTS = (
    VariantSpec("thumbnail", 300),
    VariantSpec("optimized", 800),
    VariantSpec("large", 1080, only_if_larger_than=800),
)


@cache
def avif_supported() -> bool:
    return bool(features.check("avif"))


@dataclass(frozen=True, slots=True)
class ImageOptions:
    webp_quality: float = 85
    webp_method: int = 1  # 0 is 3 ms faster but up to +50 % bytes on smooth photos
    max_pixels: int = 50_000_000
    background: tuple[int, int, int] = (255, 255, 255)
    keep_icc: bool = False
    avif: bool = False
    avif_quality: int = 60
    avif_speed: int = 8
    variants: tuple[VariantSpec, ...] = DEFAULT_VARIANTS

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageOptions:
        red, green, blue = ImageColor.getrgb(settings.image_background)[:3]
        return cls(
            webp_quality=settings.webp_quality,
            webp_method=settings.webp_method,
            max_pixels=settings.image_max_pixels,
            background=(red, green, blue),
            keep_icc=settings.keep_icc_profile,
            avif=settings.avif_enabled and avif_supported(),
            avif_quality=settings.avif_quality,
            avif_speed=settings.avif_speed,
        )


@dataclass(frozen=True, slots=True)
class ImageVariant:
    name: str  # thumbnail, optimized, large
    format: str  # webp, avif
    width: int
    height: int
    data: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    original: bytes  # as downloaded, untouched
    original_format: str  # jpeg, png, gif, webp, avif, mpo, heif
    width: int  # of the original, after EXIF orientation
    height: int
    content_hash: str  # sha256 hex of the original bytes
    blurhash: str
    dominant_color: str  # #rrggbb
    variants: tuple[ImageVariant, ...]

    @property
    def original_extension(self) -> str:
        return EXTENSIONS.get(self.original_format, "bin")

    def variant(self, name: str, format: str = "webp") -> ImageVariant | None:
        return next((v for v in self.variants if v.name == name and v.format == format), None)

    @property
    def srcset(self) -> dict[str, int]:
        """Variant name -> width, for `srcset` (WebP variants)."""
        return {v.name: v.width for v in self.variants if v.format == "webp"}


def process_image(data: bytes, options: ImageOptions) -> ProcessedImage:
    """All variants of one image; raises ImageRejected with a human reason for bad input."""
    if not data:
        raise ImageRejected("image is empty (0 bytes)")
    Image.MAX_IMAGE_PIXELS = options.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _process(data, options)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else options.max_pixels + 1
        raise ImageRejected(_too_many_pixels(pixels, options.max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(_unidentified(data)) from exc
    except OSError as exc:
        kind = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise ImageRejected(f"image is {kind} ({exc})") from exc
    except (ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
        raise ImageRejected(f"image is corrupt ({exc})") from exc
    except MemoryError as exc:
        raise ImageRejected("image is too large to decode in memory") from exc


def _process(data: bytes, options: ImageOptions) -> ProcessedImage:
    img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    original_format = (img.format or "unknown").lower()
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRejected("image has zero width or height")
    if width * height > options.max_pixels:
        raise ImageRejected(_too_many_pixels(width * height, options.max_pixels))
    if img.format == "GIF":
        _check_gif_frames(img)

    orientation = _orientation(img)
    swapped = orientation in (5, 6, 7, 8)
    oriented = (height, width) if swapped else (width, height)
    long_side = max(oriented)
    sizes = [
        (spec, _fit(oriented, spec.box))
        for spec in sorted(options.variants, key=lambda s: s.box, reverse=True)
        if long_side > spec.only_if_larger_than
    ]
    if img.format in ("JPEG", "MPO") and sizes:
        # draft sizes refer to the stored orientation: rotate the target back first
        width_to, height_to = sizes[0][1][::-1] if swapped else sizes[0][1]
        headroom = DRAFT_HEADROOM
        img.draft("RGB", (math.ceil(width_to * headroom), math.ceil(height_to * headroom)))
    img.load()  # first frame only, for animations
    if orientation not in (None, 1):
        ImageOps.exif_transpose(img, in_place=True)

    rgb, icc = _to_rgb(img, options)
    rgb.info = {}  # no EXIF/XMP/ICC reaches an encoder by accident
    convert_icc = _srgb_transform(icc) if icc and not options.keep_icc else None
    embed_icc = icc if icc and options.keep_icc else None

    made: list[tuple[VariantSpec, Image.Image]] = []
    source = rgb
    for spec, size in sizes:  # largest first; each from the previous one
        out = source if source.size == size else resize_down(source, size)
        if convert_icc is not None:
            out = ImageCms.applyTransform(out, convert_icc) or out
            convert_icc = None
        made.append((spec, out))
        source = out
    if convert_icc is not None:  # no variant asked for: the placeholder still wants sRGB
        source = ImageCms.applyTransform(source, convert_icc) or source

    tiny = source.resize(_fit(source.size, BLURHASH_SIZE), Image.Resampling.BOX)
    color = _dominant_color(tiny)
    components = (4, 3) if tiny.width >= tiny.height else (3, 4)
    hash_text = str(blurhash.encode(tiny, *components))  # encode() closes tiny

    order = {spec.name: index for index, spec in enumerate(options.variants)}
    made.sort(key=lambda item: order[item[0].name])
    formats: list[tuple[str, dict[str, object]]] = [
        ("WEBP", {"quality": options.webp_quality, "method": options.webp_method})
    ]
    if options.avif and avif_supported():
        params: dict[str, object] = {"quality": options.avif_quality, "max_threads": 1}
        formats.append(("AVIF", params | {"speed": options.avif_speed}))
    variants: list[ImageVariant] = []
    for fmt, params in formats:
        encoded: dict[int, bytes] = {}  # a small original is the same image in several boxes
        for spec, out in made:
            if id(out) not in encoded:
                encoded[id(out)] = _encode(out, fmt, icc_profile=embed_icc, **params)
            data_out = encoded[id(out)]
            variants.append(ImageVariant(spec.name, fmt.lower(), out.width, out.height, data_out))

    return ProcessedImage(
        original=data,
        original_format=original_format,
        width=oriented[0],
        height=oriented[1],
        content_hash=hashlib.sha256(data).hexdigest(),
        blurhash=hash_text,
        dominant_color=color,
        variants=tuple(variants),
    )


def resize_down(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    factor = min(img.width / size[0], img.height / size[1])
    if factor >= 2 * REDUCING_GAP:
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    return img.resize(size, RESAMPLE)


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """Fit inside box x box keeping the aspect ratio; never upscale."""
    width, height = size
    if width <= box and height <= box:
        return width, height
    scale = min(box / width, box / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation(img: Image.Image) -> int | None:
    # a broken EXIF block is not a broken image: the pixels decode fine without it
    with suppress(Exception):
        value = img.getexif().get(0x0112)
        return value if isinstance(value, int) and 1 <= value <= 8 else None
    return None


def _check_gif_frames(img: Image.Image) -> None:
    """Later GIF frames may declare gigapixel extents: seeking runs Pillow's bomb check.

    This decodes the frames (~7 ms per 800 px frame); Instagram serves no GIFs, so rare."""
    with suppress(EOFError):
        for frame in range(1, MAX_GIF_FRAMES):
            img.seek(frame)
    img.seek(0)


def _to_rgb(img: Image.Image, options: ImageOptions) -> tuple[Image.Image, bytes | None]:
    """8-bit RGB with transparency flattened; returns the ICC profile still to be honoured."""
    icc = img.info.get("icc_profile") or None
    if img.mode in _SIXTEEN_BIT:
        img = _to_8bit(img)
    if img.mode == "CMYK":
        transform = _srgb_transform(icc, "CMYK") if icc else None
        rgb = ImageCms.applyTransform(img, transform) if transform else None
        return rgb or img.convert("RGB"), None
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    if img.mode == "P" and img.palette is not None and img.palette.mode == "RGBA":
        has_alpha = True
    if has_alpha:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, options.background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    return img, icc if icc and _profile_space(icc) == "RGB" else None


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float greys scaled (not clipped) to 8 bits; tRNS becomes alpha."""
    values = np.asarray(img)
    if img.mode == "F":
        scaled = np.clip(values, 0, 255)
    elif img.mode.startswith("I;16") or int(values.max(initial=0)) > 255:
        scaled = (np.clip(values, 0, 65535).astype(np.uint32) * 255 + 32767) // 65535
    else:
        scaled = np.clip(values, 0, 255)
    grey = Image.fromarray(scaled.astype(np.uint8))
    transparent = img.info.get("transparency")
    if isinstance(transparent, int):
        alpha = np.where(values == transparent, 0, 255).astype(np.uint8)
        return Image.merge("LA", (grey, Image.fromarray(alpha)))
    return grey


def _profile_space(icc: bytes) -> str | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    return str(profile.profile.xcolor_space).strip()


@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, in_mode: str = "RGB") -> ImageCms.ImageCmsTransform | None:
    """A transform to sRGB, or None when the profile is sRGB already or unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(profile) or "").strip().lower()
        if in_mode == "RGB" and description.startswith("srgb"):
            return None
        return ImageCms.buildTransform(profile, _SRGB, in_mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None  # a broken profile: treat the pixels as sRGB


def _dominant_color(tiny: Image.Image) -> str:
    quantized = tiny.quantize(colors=5, method=Image.Quantize.MEDIANCUT)
    index = int(np.bincount(np.asarray(quantized).ravel()).argmax())
    palette = quantized.getpalette() or [0, 0, 0]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _encode(img: Image.Image, fmt: str, *, icc_profile: bytes | None, **params: object) -> bytes:
    if icc_profile:
        params["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def _too_many_pixels(pixels: int, limit: int) -> str:
    megapixels = pixels / 1e6
    shown = f"{megapixels:.0f}" if megapixels >= 100 else f"{megapixels:.1f}"
    return f"image has {shown} megapixels, over the {limit / 1e6:g} MP limit"


def _unidentified(data: bytes) -> str:
    kind = sniff_image(data[:64])
    if 0 in (declared_size(data[:64]) or (1, 1)):
        return "image has zero width or height"
    if kind == "heif" and not HEIF_SUPPORTED:
        return "HEIC/HEIF images are not supported here (pillow-heif is not installed)"
    if kind is not None:
        return f"image is corrupt (unreadable {kind.upper()} data)"
    return "not an image in a supported format (JPEG, PNG, GIF, WebP, AVIF)"
