"""Profile pictures in our own storage: a feed's header never makes a visitor ask Instagram."""

from __future__ import annotations

import asyncio
import io

from PIL import Image
from sqlalchemy.ext.asyncio import async_object_session

from instagram_service.db import after_commit
from instagram_service.errors import ServiceError
from instagram_service.media.downloader import SafeDownloader
from instagram_service.media.storage import Storage, content_key, remove_files
from instagram_service.models import InstagramAccount
from instagram_service.observability import get_logger

log = get_logger(__name__)
AVATAR_PX = 160  # shown at 56 CSS px: enough for 2.5x screens
_MAX_PIXELS = 40_000_000


def avatar_webp(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > _MAX_PIXELS:
            raise ValueError("the profile picture is too large")
        image.draft("RGB", (AVATAR_PX * 2, AVATAR_PX * 2))
        square = min(image.size)
        left, top = (image.width - square) // 2, (image.height - square) // 2
        small = image.convert("RGB").crop((left, top, left + square, top + square))
        small = small.resize((AVATAR_PX, AVATAR_PX), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "WEBP", quality=82)
        return out.getvalue()


async def store_avatar(
    downloader: SafeDownloader, storage: Storage, account: InstagramAccount
) -> None:
    """Download the account's profile picture (when its URL is set) and keep it as a small
    WebP; `account.avatar_key` names it. A failure keeps the previous one and is logged."""
    url = account.profile_picture_url
    if not url:
        return
    try:
        download = await downloader.fetch(url)
        data = await asyncio.to_thread(avatar_webp, download.data)
    except (ServiceError, OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("profile picture not stored", account_id=account.id, error=str(exc))
        return
    key = content_key("avatars", account.instagram_user_id, data, "webp")
    if key == account.avatar_key:
        return
    await storage.save(key, data)
    replaced, account.avatar_key = account.avatar_key, key
    session = async_object_session(account)
    if replaced and session is not None:
        # Only this account names its avatars (the key holds its Instagram user id), and the
        # avatar route serves the current key whatever version a cached feed asks for.
        after_commit(session, lambda: _remove_replaced(storage, replaced))


async def _remove_replaced(storage: Storage, key: str) -> None:
    try:
        await remove_files(storage, [key])
    except Exception:  # the new one is committed: a leftover file waits for the orphan sweep
        log.exception("could not remove the replaced profile picture", key=key)
