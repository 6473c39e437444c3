"""The 422 for invalid parameters and bodies: readable, JSON-safe, with a short echo only.

FastAPI's own handler echoes each rejected input whole (a 100 MB field came back as a
105 MB response) and fails on values JSON cannot hold, which made those inputs a 500.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

ECHO_CHARS = 80  # of one rejected input, or of one part of a location or message
MESSAGE_CHARS = 300
_MAX_DEPTH = 4
SECRET_FIELDS = frozenset({"access_token", "secret", "password"})  # never echoed


def _text(value: str, limit: int) -> str:
    # Lone surrogates cannot be encoded as UTF-8: shown as \udXXX escapes instead.
    safe = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= limit else safe[:limit] + "..."


def _safe(value: Any, depth: int = 0) -> Any:
    """`value` with what JSON cannot hold replaced and every string shortened."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else _text(str(value), ECHO_CHARS)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _text(value, ECHO_CHARS)
    if depth >= _MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {_text(str(k), ECHO_CHARS): _safe(v, depth + 1) for k, v in list(value.items())[:8]}
    if isinstance(value, list | tuple):
        return [_safe(item, depth + 1) for item in list(value)[:8]]
    return _text(str(value), ECHO_CHARS)


def short_echo(value: Any) -> Any:
    """At most about ECHO_CHARS of an input, as JSON: small values as they are, others as the
    start of their JSON text."""
    safe = _safe(value)
    if isinstance(safe, str):
        return safe
    text = orjson.dumps(safe).decode()
    return safe if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "..."


def safe_issue(error: dict[str, Any]) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "type": str(error.get("type", "value_error")),
        "loc": [
            part if isinstance(part, int) else _text(str(part), ECHO_CHARS)
            for part in error.get("loc", ())
        ],
        "msg": _text(str(error.get("msg", "")), MESSAGE_CHARS),
    }
    if "input" in error and not SECRET_FIELDS.intersection(map(str, error.get("loc", ()))):
        issue["input"] = short_echo(error["input"])
    ctx = error.get("ctx")
    if isinstance(ctx, dict):
        issue["ctx"] = {str(k): short_echo(v) for k, v in ctx.items()}
    return issue


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [safe_issue(error) for error in exc.errors()]}, 422)


def json_error_body(reason: str, position: int) -> bytes:
    """The 422 body for a body that is not strict JSON, in the shape of the other 422s."""
    issue = {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": _text(f"JSON decode error: {reason}", MESSAGE_CHARS),
        "input": {},
    }
    return orjson.dumps({"detail": [issue]})
