"""Recognise image and video containers by their first bytes, before any decoder sees them."""

from __future__ import annotations

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _ftyp_brands(head: bytes) -> set[bytes]:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return set()
    size = min(int.from_bytes(head[0:4], "big"), len(head))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, max(size, 16), 4))
    return brands


def sniff_image(head: bytes) -> str | None:
    """The image container named by the magic bytes ("jpeg", "png", ...), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    brands = _ftyp_brands(head)
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


def sniff_video(head: bytes) -> str | None:
    """The video container named by the magic bytes ("mp4", "webm"), or None."""
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    brands = _ftyp_brands(head)
    if brands and not brands & (_AVIF_BRANDS | _HEIF_BRANDS):
        return "mp4"
    return None


def declared_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a GIF or PNG header, for messages about broken files."""
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return None
