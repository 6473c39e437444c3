"""Prometheus metrics of media downloads (the worker's image pipeline counts images itself)."""

from __future__ import annotations

from prometheus_client import Counter

DOWNLOAD_BYTES = Counter("igs_media_download_bytes_total", "Bytes of media downloaded")
DOWNLOAD_FAILURES = Counter(
    "igs_media_download_failures_total",
    "Media downloads that failed: refused by policy, expired link, or remote failure",
    ["reason"],
)
for _reason in ("refused", "expired", "failed"):
    DOWNLOAD_FAILURES.labels(_reason)  # present from the first scrape, at 0
