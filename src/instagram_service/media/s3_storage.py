"""The `Storage` protocol on an S3-compatible bucket (AWS, MinIO, Cloudflare R2, Backblaze...).

Client: obstore (Rust's object_store): loop-agnostic, no session to open or close, and 4-5x
less client CPU per request than aiobotocore in our measurement (see README.md here).
Writes are one PutObject each (atomic: readers see the old state or the whole new object),
conditional (`If-None-Match: *`) so an object is never overwritten in place, and carry a
SHA-256 checksum that the server verifies. Keys are the local backend's keys under
`IGS_S3_PREFIX`.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    PermissionDeniedError,
    PreconditionError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from instagram_service.media.imaging import CONTENT_TYPES
from instagram_service.media.storage_base import StorageUnavailable, StoredObject, validate_key
from instagram_service.settings import Settings

if TYPE_CHECKING:
    from obstore import Attributes
    from obstore.store import S3Config

_REFUSED_CREDENTIALS = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken")
_TYPES = {**CONTENT_TYPES, "mp4": "video/mp4"}


def _headers(key: str) -> Attributes:
    """What the bucket (or a CDN on it) answers with: the type, and cache forever (a name
    never changes meaning)."""
    return {
        "Content-Type": _TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream"),
        "Cache-Control": "public, max-age=31536000, immutable",
    }


def shared_file_credentials() -> tuple[str, str, str | None] | None:
    """Static keys of the AWS profile in ~/.aws/credentials (AWS_PROFILE,
    AWS_SHARED_CREDENTIALS_FILE), the one source obstore does not read by itself."""
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    profile = os.environ.get("AWS_PROFILE", "default")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    if not parser.has_option(profile, "aws_access_key_id"):
        return None
    section = parser[profile]
    return (
        section["aws_access_key_id"],
        section.get("aws_secret_access_key", ""),
        section.get("aws_session_token") or None,
    )


def s3_config(settings: Settings) -> S3Config:
    """Settings first; else obstore's own AWS chain (AWS_* variables, web identity, ECS and
    instance roles), with the shared credentials file in between."""
    config: S3Config = {"checksum_algorithm": "SHA256"}
    if settings.s3_region:
        config["region"] = settings.s3_region
    if settings.s3_endpoint_url:
        config["endpoint"] = settings.s3_endpoint_url
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        config["access_key_id"] = settings.s3_access_key_id
        config["secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    elif not os.environ.get("AWS_ACCESS_KEY_ID") and (keys := shared_file_credentials()):
        config["access_key_id"], config["secret_access_key"] = keys[0], keys[1]
        if keys[2]:
            config["session_token"] = keys[2]
    return config


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket, "IGS_STORAGE=s3 needs IGS_S3_BUCKET"
        self.bucket = settings.s3_bucket
        self.where = f"bucket {self.bucket!r}" + (
            f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
        )
        self.store = S3Store(
            self.bucket,
            prefix=settings.s3_prefix or None,
            config=s3_config(settings),
            client_options={
                "connect_timeout": "5 seconds",
                "timeout": "60 seconds",
                "allow_http": (settings.s3_endpoint_url or "").startswith("http://"),
            },
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=20)},
        )

    def local_path(self, key: str) -> Path | None:
        return None

    def accel_redirect(self, key: str) -> str | None:
        return None

    async def save(self, key: str, data: bytes) -> bool:
        if await self.exists(validate_key(key)):  # the usual case on a re-sync: no upload at all
            return False
        try:
            await obstore.put_async(self.store, key, data, mode="create", attributes=_headers(key))
        except (AlreadyExistsError, PreconditionError):
            return False  # written meanwhile by another worker: same name, same bytes
        except Exception as exc:
            self._raise(exc)
        return True

    async def read(self, key: str) -> bytes:
        validate_key(key)
        try:
            result = await obstore.get_async(self.store, key)
            return bytes(await result.bytes_async())
        except Exception as exc:
            self._raise(exc)

    async def open(self, key: str) -> tuple[int, AsyncIterator[bytes]]:
        validate_key(key)
        try:
            result = await obstore.get_async(self.store, key)
        except Exception as exc:
            self._raise(exc)
        return result.meta["size"], aiter(result.stream(min_chunk_size=256 * 1024))

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False  # (a HEAD has no body to tell a missing bucket: verify() does)
        except Exception as exc:
            self._raise(exc)
        return True

    async def delete(self, key: str) -> bool:
        if not await self.exists(key):  # DeleteObject answers 204 either way
            return False
        try:
            await obstore.delete_async(self.store, key)
        except Exception as exc:
            self._raise(exc)
        return True

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        try:
            async for chunk in obstore.list(self.store, chunk_size=500):
                for meta in chunk:
                    yield StoredObject(meta["path"], meta["size"], meta["last_modified"])
        except Exception as exc:
            self._raise(exc)

    async def verify(self) -> None:
        """One request that fails clearly on a missing bucket or refused credentials."""
        try:
            # One listing of the top level: only the variant folders live there.
            await obstore.list_with_delimiter_async(self.store)
        except Exception as exc:
            self._raise(exc)

    def _raise(self, exc: Exception) -> NoReturn:
        """A missing object stays FileNotFoundError (the routes mark it for download again);
        anything else, a missing bucket included, is StorageUnavailable."""
        if isinstance(exc, FileNotFoundError) and "NoSuchBucket" not in str(exc):
            raise exc
        raise StorageUnavailable(self.explain(exc)) from exc

    def explain(self, exc: BaseException) -> str:
        text = str(exc)
        if "NoSuchBucket" in text:
            return f"S3 {self.where} does not exist (IGS_S3_BUCKET, IGS_S3_ENDPOINT_URL)"
        if any(code in text for code in _REFUSED_CREDENTIALS) or isinstance(
            exc, UnauthenticatedError
        ):
            return (
                f"S3 refused the credentials for {self.where} (IGS_S3_ACCESS_KEY_ID / "
                "AWS_ACCESS_KEY_ID, or ~/.aws/credentials)"
            )
        if isinstance(exc, PermissionDeniedError) or "AccessDenied" in text:
            return f"S3 denied access to {self.where}: the credentials lack permission"
        first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        kind = "S3 error" if isinstance(exc, BaseError) else type(exc).__name__
        return f"S3 {self.where} is unavailable: {kind}: {first_line[:300]}"
