from __future__ import annotations

from instagram_service.instagram.schemas import IGUser
from instagram_service.models import InstagramAccount


def apply_profile(account: InstagramAccount, user: IGUser) -> None:
    """Copy the profile fields Instagram returned (only changed values are written)."""
    values = {
        "username": user.username or account.username or user.user_id,
        "name": user.name,
        "account_type": user.account_type,
        "profile_picture_url": user.profile_picture_url,
        "followers_count": user.followers_count,
        "follows_count": user.follows_count,
        "media_count": user.media_count,
        "biography": user.biography,
        "website": user.website,
    }
    for name, value in values.items():
        if getattr(account, name) != value:
            setattr(account, name, value)
