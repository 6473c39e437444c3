"""What the sync engine plugs in, not imports: moderation and media (see `container.Slot`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.container import Slot
from instagram_service.models import InstagramAccount, InstagramPost


class Moderator(Protocol):
    def apply(self, post: InstagramPost, account: InstagramAccount) -> None:
        """Set the automatic moderation fields of `post` (never those in post.manual_fields)."""


class ModerationPort(Protocol):
    async def prepare(self, session: AsyncSession) -> Moderator:
        """Load what a run needs (the active rules) once, and return the moderator."""


@dataclass
class MediaOutcome:
    images_done: int = 0
    failed_post_ids: list[int] = field(default_factory=list)


class MediaPort(Protocol):
    async def process_posts(
        self, account: InstagramAccount, token: str, post_ids: Sequence[int]
    ) -> MediaOutcome:
        """Download and store the images of these (committed) posts; record failures on them."""

    async def store_avatar(self, account: InstagramAccount) -> None:
        """Keep the account's profile picture in our storage (sets `avatar_key`)."""

    async def start(self) -> None:
        """Start what processing needs (the image processes) ahead of the first sync."""


class DefaultModerator:
    """Until rules exist: approve, keep the category; never touch admin-set fields."""

    def apply(self, post: InstagramPost, account: InstagramAccount) -> None:
        if "is_approved" not in post.manual_fields and post.is_approved is None:
            post.is_approved = True
            post.moderation_reason = {**post.moderation_reason, "approval": "default: approve"}


class DefaultModeration:
    async def prepare(self, session: AsyncSession) -> Moderator:
        return DefaultModerator()


class NoMedia:
    """Keeps posts with their Instagram URLs only (no local files)."""

    async def process_posts(
        self, account: InstagramAccount, token: str, post_ids: Sequence[int]
    ) -> MediaOutcome:
        return MediaOutcome()

    async def store_avatar(self, account: InstagramAccount) -> None:
        return None

    async def start(self) -> None:
        return None


MODERATION: Slot[ModerationPort] = Slot("sync.moderation", DefaultModeration)
MEDIA: Slot[MediaPort] = Slot("sync.media", NoMedia)
