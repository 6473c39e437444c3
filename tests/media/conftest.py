"""Fixtures of the media tests: the shared image files, small image helpers, an S3 server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from instagram_service.settings import Settings, StorageKind
from tests.media.s3_server import create_bucket, moto_server
from tests.shared_fixtures import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "images"


@pytest.fixture(scope="session")
def images_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"image fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    """The test settings on a fresh bucket of the loopback S3 server."""
    return settings.model_copy(
        update={
            "storage": StorageKind.S3,
            "s3_bucket": create_bucket(s3_endpoint),
            "s3_endpoint_url": s3_endpoint,
            "s3_region": "us-east-1",
            "s3_prefix": "media",
            "s3_access_key_id": "testing",
            "s3_secret_access_key": SecretStr("testing"),
        }
    )


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def grey(data: bytes | Image.Image, size: tuple[int, int] = (48, 48)) -> np.ndarray:
    """A small grayscale float array, for comparing pictures that went different ways."""
    img = data if isinstance(data, Image.Image) else decode(data)
    small = img.convert("L").resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def jpeg_bytes(img: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def riff_chunks(webp: bytes) -> list[bytes]:
    """The chunk ids of a WebP file (VP8/VP8L/VP8X/EXIF/XMP /ICCP/ANIM...)."""
    assert webp[:4] == b"RIFF"
    assert webp[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(webp):
        chunks.append(webp[offset : offset + 4])
        size = int.from_bytes(webp[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return chunks
