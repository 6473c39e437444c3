"""Columns of a locally cached image, shared by a post's own image and a carousel child."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from instagram_service.db import JSONType, UTCDateTime


class MediaStatus:
    PENDING = "pending"  # not downloaded yet
    READY = "ready"  # variants stored
    FAILED = "failed"  # last attempt failed (previous files, if any, kept)
    NONE = "none"  # nothing to download (for example a reel without cover)


class ImageFieldsMixin:
    media_status: Mapped[str] = mapped_column(String(16), default=MediaStatus.PENDING)
    # Storage keys of the seed's folders: original/, thumbnails/, optimized/ (+ large/).
    local_image_path: Mapped[str | None] = mapped_column(String(255))
    thumbnail_path: Mapped[str | None] = mapped_column(String(255))
    optimized_path: Mapped[str | None] = mapped_column(String(255))
    large_path: Mapped[str | None] = mapped_column(String(255))
    # name -> {"key", "width", "height", "format"} for every stored variant (AVIF included).
    variants: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    image_width: Mapped[int | None] = mapped_column()
    image_height: Mapped[int | None] = mapped_column()
    blurhash: Mapped[str | None] = mapped_column(String(64))
    dominant_color: Mapped[str | None] = mapped_column(String(7))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    media_error: Mapped[str | None] = mapped_column(Text)
    media_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
