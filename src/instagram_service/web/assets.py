"""The widget script, read once: its bytes, a content-hash name, and compressed copies."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from instagram_service.posts.cache import CachedBody

WIDGET_PATH = Path(__file__).parent / "widget" / "widget.js"


@cache
def widget() -> tuple[CachedBody, str]:
    """The script and its immutable name (`widget.<hash>.js`)."""
    body = WIDGET_PATH.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    return CachedBody(body, f'"{digest[:32]}"'), f"widget.{digest[:12]}.js"
