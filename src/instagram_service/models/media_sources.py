"""Which still image each row keeps, and when a row counts as showing one.

A post's own image is a video's cover, an image's own file, and for a carousel album the
first IMAGE child (failing that, the first video child's cover): an album's `media_url` is
its first child's, which may be an .mp4, or null. A video is never downloaded as an image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, or_

from instagram_service.models import MediaStatus


class _Media(Protocol):
    @property
    def media_type(self) -> str | None: ...

    @property
    def media_url(self) -> str | None: ...

    @property
    def thumbnail_url(self) -> str | None: ...


def still_url(row: _Media) -> str | None:
    """A single media's still: a video's cover, else the media itself."""
    return row.thumbnail_url if row.media_type == "VIDEO" else row.media_url


def own_image_url(row: _Media, children: Sequence[_Media]) -> str | None:
    """The still that stands for the whole post (see the module docstring)."""
    if row.media_type != "CAROUSEL_ALBUM":
        return still_url(row)
    return album_image_url(children)


def album_image_url(children: Sequence[_Media]) -> str | None:
    """An album's still: its first IMAGE child, else the first video child's cover."""
    images = (c.media_url for c in children if c.media_type != "VIDEO" and c.media_url)
    covers = (c.thumbnail_url for c in children if c.media_type == "VIDEO" and c.thumbnail_url)
    return next(images, None) or next(covers, None)


def shows_image(row: Any) -> bool:
    """Whether a post or child has image files to show: READY, or PENDING with the previous
    files still in place (a new link waits to be downloaded, or its download failed and will
    be retried)."""
    status = row.media_status
    return bool(
        status == MediaStatus.READY
        or (status == MediaStatus.PENDING and row.local_image_path is not None)
    )


def shows_image_clause(model: Any) -> ColumnElement[bool]:
    """`shows_image` as SQL, for `InstagramPost` or `PostMedia`."""
    return or_(
        model.media_status == MediaStatus.READY,
        and_(model.media_status == MediaStatus.PENDING, model.local_image_path.is_not(None)),
    )
