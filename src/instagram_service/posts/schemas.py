"""The public shape of a post (gallery, webhooks) and the admin shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import Page
from instagram_service.models import InstagramPost, PostMedia
from instagram_service.models.media_sources import shows_image
from instagram_service.posts.alt_text import generated_alt

# srcset widths come from the variant boxes: thumbnail 300, optimized 800, large 1080.
SRCSET_VARIANTS = ("thumbnail", "optimized", "large")
AVIF_VARIANTS = tuple(f"{name}.avif" for name in SRCSET_VARIANTS)  # with IGS_AVIF_ENABLED
_URL_VARIANTS = frozenset((*SRCSET_VARIANTS, *AVIF_VARIANTS, "original"))

_IMAGE_EXAMPLE = {
    "media_type": "IMAGE",
    "alt_text": "A ceramic bowl on a linen tablecloth",
    "width": 1080,
    "height": 1350,
    "urls": {
        "thumbnail": "/images/12/thumbnail?v=3f2a9c1b7d4e",
        "optimized": "/images/12/optimized?v=3f2a9c1b7d4e",
        "large": "/images/12/large?v=3f2a9c1b7d4e",
        "original": "/images/12/original?v=3f2a9c1b7d4e",
    },
    "srcset": "/images/12/thumbnail?v=3f2a9c1b7d4e 300w, /images/12/optimized?v=3f2a9c1b7d4e 800w, "
    "/images/12/large?v=3f2a9c1b7d4e 1080w",
    "srcset_avif": None,
    "placeholder": "LEHV6nWB2yk8pyo0adR*",
    "color": "#a0522d",
    "alt_text_generated": False,
    "video": None,
}
PUBLIC_POST_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "instagram_id": "17895695668004550",
    "permalink": "https://www.instagram.com/p/C3xYz1AbCdE/",
    "caption": "New glaze, same bowl. #ceramics #handmade",
    "alt_text": "A ceramic bowl on a linen tablecloth",
    "category": "portfolio",
    "featured": True,
    "display_order": 0,
    "posted_at": "2024-05-02T09:30:00Z",
    "likes": 128,
    "comments": 7,
    "media_type": "IMAGE",
    "media_product_type": "FEED",
    "username": "studio.example",
    "hashtags": ["ceramics", "handmade"],
    "image": _IMAGE_EXAMPLE,
    "children": [],
    "alt_text_generated": False,
    "image_url": "https://gallery.example.com/images/12/optimized?v=3f2a9c1b7d4e",
    "thumbnail_url": "https://gallery.example.com/images/12/thumbnail?v=3f2a9c1b7d4e",
    "instagram_url": "https://www.instagram.com/p/C3xYz1AbCdE/",
    "likes_count": 128,
    "comments_count": 7,
    "is_featured": True,
}
ADMIN_POST_EXAMPLE: dict[str, Any] = {
    **PUBLIC_POST_EXAMPLE,
    "account_id": 1,
    "is_approved": True,
    "is_featured": True,
    "gallery_category": "portfolio",
    "status": "approved",
    "manual_fields": ["is_featured"],
    "moderation_reason": {
        "approval": "default: approve (no rule rejected it)",
        "featured": "admin",
        "category": "default: keyword map (portfolio: 'glaze')",
    },
    "mentions": [],
    "content_tags": [],
    "media_status": "READY",
    "media_error": None,
    "sync_error": None,
    "sync_retry_count": 0,
    "deleted_at": None,
    "last_synced_at": "2024-05-02T10:00:00Z",
}


class VideoOut(BaseModel):
    url: str = Field(examples=["https://gallery.example.com/images/12/video?v=3f2a9c1b7d4e"])
    width: int | None = Field(None, examples=[1080])
    height: int | None = Field(None, examples=[1920])
    poster: dict[str, str] = Field(
        default_factory=dict, description="The cover's variants (the same as `urls`)"
    )


class ImageOut(BaseModel):
    media_type: str = Field(examples=["IMAGE"])
    alt_text: str | None = None
    width: int | None = Field(None, examples=[1080])
    height: int | None = Field(None, examples=[1350])
    urls: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"thumbnail": "/images/12/thumbnail?v=3f2a9c1b7d4e", "optimized": "..."}],
    )
    srcset: str | None = Field(
        None, examples=["/images/12/thumbnail?v=3f2a 300w, /images/12/optimized?v=3f2a 800w"]
    )
    srcset_avif: str | None = Field(
        None,
        description="The same boxes in AVIF (with IGS_AVIF_ENABLED), for <source type=image/avif>",
        examples=[None],
    )
    placeholder: str | None = Field(None, description="BlurHash", examples=["LEHV6nWB2yk8pyo0adR*"])
    color: str | None = Field(None, examples=["#a0522d"])
    alt_text_generated: bool = Field(
        False, description="alt_text was made from the caption: no person wrote it yet"
    )
    video: VideoOut | None = Field(None, description="A video or reel's own file, when stored")


class PublicPost(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(PUBLIC_POST_EXAMPLE))

    id: int
    instagram_id: str
    permalink: str | None
    caption: str | None
    alt_text: str | None
    category: str
    featured: bool
    display_order: int
    posted_at: datetime
    likes: int | None = Field(description="null when the owner hides the count")
    comments: int | None
    media_type: str
    media_product_type: str | None
    username: str | None
    hashtags: list[str]
    image: ImageOut | None
    children: list[ImageOut]
    alt_text_generated: bool = Field(description="alt_text was made from the caption")
    # The seed's flat keys (its website code reads these), beside the richer ones above.
    image_url: str | None = Field(description="Absolute URL of the 800 px variant")
    thumbnail_url: str | None = Field(description="Absolute URL of the 300 px variant")
    instagram_url: str | None = Field(description="The post on Instagram (= permalink)")
    likes_count: int | None = Field(description="null when the owner hides the count")
    comments_count: int | None
    is_featured: bool


def _image_path(post_id: int, index: int | None, variant: str) -> str:
    return (
        f"/images/{post_id}/{variant}" if index is None else f"/images/{post_id}/{index}/{variant}"
    )


def image_out(
    row: InstagramPost | PostMedia,
    post_id: int,
    index: int | None,
    base_url: str = "",
    *,
    fallback_alt: str = "",
    media_url: str = "",
) -> ImageOut | None:
    """URLs of our image routes; with `media_url` (IGS_MEDIA_PUBLIC_URL: a CDN or the bucket)
    the storage keys under it instead, which carry the content hash (cached forever)."""
    if not shows_image(row) or not row.variants:
        return None
    version = (row.content_hash or "")[:12]
    urls = {
        name: f"{media_url}/{row.variants[name]['key']}"
        if media_url
        else f"{base_url}{_image_path(post_id, index, name)}?v={version}"
        for name in row.variants
        if name in _URL_VARIANTS
    }

    def srcset_of(names: tuple[str, ...]) -> str | None:
        widths = [f"{urls[n]} {row.variants[n]['width']}w" for n in names if n in urls]
        return ", ".join(widths) or None

    video = None
    if "video" in row.variants:
        video = VideoOut(
            url=f"{base_url}{_image_path(post_id, index, 'video')}?v={version}",
            width=row.image_width,
            height=row.image_height,
            poster=urls,
        )
    return ImageOut(
        media_type=row.media_type,
        alt_text=row.alt_text or fallback_alt or None,
        alt_text_generated=not row.alt_text and bool(fallback_alt),
        video=video,
        width=row.image_width,
        height=row.image_height,
        urls=urls,
        srcset=srcset_of(SRCSET_VARIANTS),
        srcset_avif=srcset_of(AVIF_VARIANTS),
        placeholder=row.blurhash,
        color=row.dominant_color,
    )


def public_post(post: InstagramPost, base_url: str = "", *, media_url: str = "") -> PublicPost:
    """Needs `post.children` loaded."""
    alt = post.alt_text or generated_alt(post.media_type, post.username, post.caption)
    image = image_out(post, post.id, None, base_url, fallback_alt=alt, media_url=media_url)
    count = len(post.children)

    def child_alt(child: PostMedia) -> str:
        return generated_alt(
            child.media_type, post.username, post.caption, position=child.position, count=count
        )

    return PublicPost(
        id=post.id,
        instagram_id=post.instagram_id,
        permalink=post.permalink,
        caption=post.caption,
        alt_text=alt,
        alt_text_generated=not post.alt_text,
        image_url=image.urls.get("optimized") if image else None,
        thumbnail_url=image.urls.get("thumbnail") if image else None,
        instagram_url=post.permalink,
        likes_count=post.like_count,
        comments_count=post.comments_count,
        is_featured=post.is_featured,
        category=post.gallery_category,
        featured=post.is_featured,
        display_order=post.display_order,
        posted_at=post.posted_at,
        likes=post.like_count,
        comments=post.comments_count,
        media_type=post.media_type,
        media_product_type=post.media_product_type,
        username=post.username,
        hashtags=list(post.hashtags or []),
        image=image,
        children=[
            out
            for child in post.children
            if (
                out := image_out(
                    child,
                    post.id,
                    child.position,
                    base_url,
                    fallback_alt=child_alt(child),
                    media_url=media_url,
                )
            )
            is not None
        ],
    )


def public_post_dict(
    post: InstagramPost, base_url: str = "", *, media_url: str = ""
) -> dict[str, Any]:
    return public_post(post, base_url, media_url=media_url).model_dump(mode="json")


def moderation_status(post: InstagramPost) -> str:
    if post.is_approved is None:
        return "pending"
    return "approved" if post.is_approved else "rejected"


class AdminPost(PublicPost):
    """Every post, with what moderation decided and why."""

    model_config = ConfigDict(json_schema_extra=examples(ADMIN_POST_EXAMPLE))

    account_id: int
    is_approved: bool | None
    is_featured: bool
    gallery_category: str
    status: str = Field(examples=["approved"])
    manual_fields: list[str]
    moderation_reason: dict[str, Any]
    mentions: list[str]
    content_tags: list[str]
    media_status: str
    media_error: str | None
    sync_error: str | None
    sync_retry_count: int
    deleted_at: datetime | None
    last_synced_at: datetime | None


def admin_post(post: InstagramPost, base_url: str = "", *, media_url: str = "") -> AdminPost:
    public = public_post(post, base_url, media_url=media_url)
    return AdminPost(
        **public.model_dump(),
        account_id=post.account_id,
        is_approved=post.is_approved,
        gallery_category=post.gallery_category,
        status=moderation_status(post),
        manual_fields=list(post.manual_fields or []),
        moderation_reason=dict(post.moderation_reason or {}),
        mentions=list(post.mentions or []),
        content_tags=list(post.content_tags or []),
        media_status=post.media_status,
        media_error=post.media_error,
        sync_error=post.sync_error,
        sync_retry_count=post.sync_retry_count,
        deleted_at=post.deleted_at,
        last_synced_at=post.last_synced_at,
    )


class GalleryPage(Page):
    items: list[PublicPost]


class AdminPostPage(Page):
    items: list[AdminPost]


class CategoryCount(BaseModel):
    category: str = Field(examples=["portfolio"])
    count: int = Field(examples=[12])


class CategoriesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "items": [
                    {"category": "portfolio", "count": 12},
                    {"category": "tutorial", "count": 4},
                ]
            }
        )
    )

    items: list[CategoryCount]
