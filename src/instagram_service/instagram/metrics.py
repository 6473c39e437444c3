"""Prometheus metrics of the Instagram client, per account (its Instagram user id)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

API_CALLS = Counter("igs_instagram_api_calls_total", "Instagram API calls", ["account"])
RATE_LIMIT_HITS = Counter(
    "igs_rate_limit_hits_total", "Rate-limit errors answered by Instagram", ["account"]
)
RATE_LIMIT_USAGE = Gauge(
    "igs_rate_limit_usage_percent",
    "Latest usage reported by Instagram's headers (the highest of its percentages)",
    ["account"],
)


def account_label(key: str | None) -> str:
    """The limiter key is the user id once known; before (a token's first call) it is a hash."""
    return key if key is not None and key.isdigit() else "unidentified"
