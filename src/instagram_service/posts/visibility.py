"""What the gallery shows, in Python and in SQL: approved, not deleted, with its image stored
(READY, or PENDING with the previous files still in place)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

from instagram_service.models import InstagramPost
from instagram_service.models.media_sources import shows_image, shows_image_clause

Q = TypeVar("Q", bound=Select[Any])


def is_public(post: InstagramPost) -> bool:
    return post.is_approved is True and post.deleted_at is None and shows_image(post)


def public_filter(query: Q) -> Q:
    """`is_public` as a WHERE clause on a select of posts."""
    return query.where(
        InstagramPost.is_approved.is_(True),
        InstagramPost.deleted_at.is_(None),
        shows_image_clause(InstagramPost),
    )
