"""ORM models, one file per table; domains import them from here."""

# Imported for its events, which keep InstagramAccount.content_version counting changes.
from instagram_service.models import content_version as content_version
from instagram_service.models.account import InstagramAccount
from instagram_service.models.api_key import ApiKey
from instagram_service.models.base import Base
from instagram_service.models.category import DEFAULT_CATEGORIES, FALLBACK_CATEGORY, Category
from instagram_service.models.content_filter import ContentFilter
from instagram_service.models.feed import Feed
from instagram_service.models.image_fields import MediaStatus
from instagram_service.models.moderation_status import ModerationStatus
from instagram_service.models.oauth_state import OAuthState
from instagram_service.models.post import ADMIN_TEXT_FIELDS, MANUAL_FIELDS, InstagramPost
from instagram_service.models.post_media import PostMedia
from instagram_service.models.sync_job import ACTIVE_STATUSES, SyncJob, SyncStatus, SyncType
from instagram_service.models.webhook_delivery import DeliveryStatus, WebhookDelivery
from instagram_service.models.webhook_event import WebhookEvent, WebhookEventStatus
from instagram_service.models.webhook_subscription import EVENT_TYPES, WebhookSubscription

__all__ = [
    "ADMIN_TEXT_FIELDS",
    "ACTIVE_STATUSES",
    "EVENT_TYPES",
    "MANUAL_FIELDS",
    "ApiKey",
    "Base",
    "Category",
    "DEFAULT_CATEGORIES",
    "FALLBACK_CATEGORY",
    "ContentFilter",
    "DeliveryStatus",
    "Feed",
    "InstagramAccount",
    "InstagramPost",
    "MediaStatus",
    "ModerationStatus",
    "OAuthState",
    "PostMedia",
    "SyncJob",
    "SyncStatus",
    "SyncType",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookEventStatus",
    "WebhookSubscription",
]
