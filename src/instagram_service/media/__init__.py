"""Media pipeline: safe downloads, image variants, storage. See README.md in this folder."""

from instagram_service.media.downloader import DownloadResult, SafeDownloader, fetch_with_refresh
from instagram_service.media.errors import (
    DownloadFailed,
    DownloadRefused,
    ImageRejected,
    LinkExpired,
)
from instagram_service.media.imaging import (
    ImageOptions,
    ImageVariant,
    ProcessedImage,
    VariantSpec,
    process_image,
)
from instagram_service.media.processor import ImageProcessor
from instagram_service.media.storage import (
    LocalStorage,
    Storage,
    StoredImage,
    StoredVariant,
    remove_files,
    store_processed,
)

__all__ = [
    "DownloadFailed",
    "DownloadRefused",
    "DownloadResult",
    "ImageOptions",
    "ImageProcessor",
    "ImageRejected",
    "ImageVariant",
    "LinkExpired",
    "LocalStorage",
    "ProcessedImage",
    "SafeDownloader",
    "Storage",
    "StoredImage",
    "StoredVariant",
    "VariantSpec",
    "fetch_with_refresh",
    "process_image",
    "remove_files",
    "store_processed",
]
