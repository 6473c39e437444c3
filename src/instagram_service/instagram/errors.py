"""Errors of the Instagram API, mapped from Graph error codes.

Every message names the call, Instagram's message and the fbtrace_id; none carries a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instagram_service.instagram.redact import redact_url
from instagram_service.instagram.usage import parse_usage_headers

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
TOKEN_REASONS = {
    463: "token expired",
    460: "password changed",
    458: "app removed by the user",
    467: "token invalid",
}


class InstagramError(Exception):
    def __init__(
        self,
        call: str,
        ig_message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        is_transient: bool = False,
    ) -> None:
        self.call = redact_url(call)
        self.ig_message = redact_url(ig_message)
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"code {self.code}" if self.code is not None else None]
        if self.subcode is not None:
            parts.append(f"subcode {self.subcode}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        parts.append(f"fbtrace_id {self.fbtrace_id or '-'}")
        detail = ", ".join(p for p in parts if p)
        return f"{self.call}: {self.ig_message} ({detail})"


class TokenInvalid(InstagramError):
    """Code 190: the account must be connected again."""

    @property
    def reason(self) -> str:
        return TOKEN_REASONS.get(self.subcode or 0, "token invalid")

    def _describe(self) -> str:
        return f"{super()._describe()} [{self.reason}]"


class RateLimited(InstagramError):
    """Instagram (or our own limiter, `from_limiter`) refuses calls for a while."""

    def __init__(
        self,
        call: str,
        ig_message: str,
        *,
        retry_after_s: float | None = None,
        from_limiter: bool = False,
        **kwargs: Any,
    ) -> None:
        self.retry_after_s = retry_after_s
        self.from_limiter = from_limiter
        super().__init__(call, ig_message, **kwargs)

    def _describe(self) -> str:
        text = super()._describe()
        if self.retry_after_s is not None:
            text += f" [retry after {self.retry_after_s:.0f}s]"
        return text


class TransientError(InstagramError):
    """Temporary failure: codes 1 and 2, is_transient, 5xx, timeouts, connection errors."""


class PermissionDenied(InstagramError):
    """Codes 3, 10, 200-299: a permission is missing."""


class MediaNotFound(InstagramError):
    """Code 100 on a single media: it was deleted or is not ours."""


def error_from_response(
    call: str,
    http_status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    object_call: bool = False,
) -> InstagramError:
    """Map an error response (Graph shape or OAuth shape) to the matching error class."""
    err: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        message = str(err.get("message") or err.get("error_user_msg") or "unknown error")
    elif isinstance(body, dict) and "error_message" in body:
        err = {"code": body.get("code"), "type": body.get("error_type")}
        message = str(body.get("error_message"))
    else:
        message = f"unexpected response (HTTP {http_status})"
    code = _as_int(err.get("code"))
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": _as_int(err.get("error_subcode")),
        "fbtrace_id": err.get("fbtrace_id"),
        "http_status": http_status,
        "is_transient": bool(err.get("is_transient")),
    }
    if code == 190:
        return TokenInvalid(call, message, **kwargs)
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimited(
            call, message, retry_after_s=parse_usage_headers(headers or {})[1], **kwargs
        )
    if code in PERMISSION_CODES:
        return PermissionDenied(call, message, **kwargs)
    if code == 100 and object_call:
        return MediaNotFound(call, message, **kwargs)
    if code in TRANSIENT_CODES or kwargs["is_transient"] or http_status >= 500:
        return TransientError(call, message, **kwargs)
    return InstagramError(call, message, **kwargs)


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
