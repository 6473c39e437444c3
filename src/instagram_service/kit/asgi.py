"""Helpers for the plain ASGI middleware (they read the scope, not a Request)."""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of the lower-case header `name`, or None."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None
