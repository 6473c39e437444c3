"""Errors of the media pipeline. Messages are for humans: they say what was wrong."""

from __future__ import annotations

from instagram_service.errors import BadRequest, UpstreamError


class ImageRejected(BadRequest):
    """The bytes are not an image we accept: corrupt, truncated, too many pixels, unknown."""

    @property
    def reason(self) -> str:
        return self.message


class DownloadRefused(BadRequest):
    """Refused by policy: host, scheme, address, size or content type."""

    @property
    def reason(self) -> str:
        return self.message


class DownloadFailed(UpstreamError):
    """The remote end failed: HTTP error status, timeout, connection error."""


class LinkExpired(DownloadFailed):
    """Instagram's CDN says the signed media URL has expired: ask the API for a fresh one."""
