"""What every media store shares (the local folder in `storage.py`, the bucket in
`s3_storage.py`): the key rule, the stored-object record and the one error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from instagram_service.errors import ServiceError

_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class InvalidKey(ValueError):
    pass


class StorageUnavailable(ServiceError):
    """The store cannot be used (missing bucket, refused credentials): one clear message."""

    status_code = 503


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


def validate_key(key: str) -> str:
    """`a/b/c.webp` with `[A-Za-z0-9_.-]` segments only: no `..`, no absolute or hidden paths."""
    segments = key.split("/")
    if not 1 <= len(segments) <= 4:
        raise InvalidKey(f"invalid storage key {key!r}")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment.startswith("."):
            raise InvalidKey(f"invalid storage key {key!r}")
    return key
