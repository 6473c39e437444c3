"""The Instagram Platform API client: requests, pagination, errors, rate limiter, tokens."""

from instagram_service.instagram.client import CallStats, InstagramClient
from instagram_service.instagram.errors import (
    InstagramError,
    MediaNotFound,
    PermissionDenied,
    RateLimited,
    TokenInvalid,
    TransientError,
)
from instagram_service.instagram.http import close_http_client, get_http_client
from instagram_service.instagram.ratelimit import RateLimiter, UsageSnapshot, make_rate_limiter
from instagram_service.instagram.redact import redact_url
from instagram_service.instagram.schemas import (
    IGChild,
    IGMedia,
    IGUser,
    LongLivedToken,
    MediaPage,
    ShortLivedToken,
)

__all__ = [
    "CallStats",
    "IGChild",
    "IGMedia",
    "IGUser",
    "InstagramClient",
    "InstagramError",
    "LongLivedToken",
    "MediaNotFound",
    "MediaPage",
    "PermissionDenied",
    "RateLimited",
    "RateLimiter",
    "ShortLivedToken",
    "TokenInvalid",
    "TransientError",
    "UsageSnapshot",
    "close_http_client",
    "get_http_client",
    "make_rate_limiter",
    "redact_url",
]
