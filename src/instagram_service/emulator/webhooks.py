"""Signed webhook deliveries in Instagram's shape (and our `media` extension field)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


def sign(body: bytes, app_secret: str) -> str:
    """X-Hub-Signature-256: HMAC-SHA256 of the raw body bytes, keyed by the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def build_event(
    user_id: str, field: str, value: dict[str, Any], at: float | None = None
) -> dict[str, Any]:
    entry = {
        "id": user_id,
        "time": int(at if at is not None else time.time()),
        "changes": [{"field": field, "value": value}],
    }
    return {"object": "instagram", "entry": [entry]}


def comment_value(
    media_id: str,
    text: str,
    *,
    comment_id: str = "17900000000000001",
    username: str = "a.customer",
    product: str = "FEED",
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "from": {"id": "17800000000000009", "username": username},
        "text": text,
        "media": {"id": media_id, "media_product_type": product},
    }


def media_value(media_id: str, verb: str) -> dict[str, Any]:
    """Our extension field: Instagram has no webhook for new posts."""
    return {"media_id": media_id, "verb": verb}


@dataclass
class Delivery:
    url: str
    status_code: int | None
    signature: str
    body: bytes
    error: str | None = None


async def deliver(
    url: str, event: dict[str, Any], app_secret: str, timeout_s: float = 10.0
) -> Delivery:
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    signature = sign(body, app_secret)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Delivery(url, None, signature, body, error=type(exc).__name__)
    return Delivery(url, response.status_code, signature, body)
