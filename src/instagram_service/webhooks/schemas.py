from __future__ import annotations

import base64
import binascii
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import Page
from instagram_service.models import EVENT_TYPES

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64

_SUBSCRIPTION_EXAMPLE = {
    "id": 4,
    "url": "https://cms.example.com/hooks/instagram",
    "description": "Rebuild the website's gallery",
    "events": ["post.published", "post.removed", "gallery.changed"],
    "is_active": True,
    "consecutive_failures": 0,
    "disabled_at": None,
    "disabled_reason": None,
    "created_at": "2024-04-01T08:00:00Z",
    "updated_at": "2024-04-01T08:00:00Z",
}


def _check_events(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
    return sorted(set(events), key=EVENT_TYPES.index)


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, examples=["https://cms.example.com/hooks/instagram"])
    events: list[str] = Field(
        min_length=1, examples=[["post.published", "post.removed", "gallery.changed"]]
    )
    secret: str | None = Field(
        None,
        description="`whsec_` + base64 of 24-64 random bytes; generated when left out.",
        examples=[None],
    )
    description: str | None = Field(None, max_length=1000)
    is_active: bool = True

    _events = field_validator("events")(_check_events)

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(SECRET_PREFIX):
            raise ValueError(f"the secret must start with {SECRET_PREFIX!r}")
        try:
            raw = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the secret must be whsec_ followed by base64") from None
        if not SECRET_MIN_BYTES <= len(raw) <= SECRET_MAX_BYTES:
            raise ValueError(f"the secret must hold {SECRET_MIN_BYTES}-{SECRET_MAX_BYTES} bytes")
        return value


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2048)
    events: list[str] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=1000)
    is_active: bool | None = Field(
        None, description="`true` re-enables a subscription disabled after failures."
    )

    _events = field_validator("events")(_check_events)


class SubscriptionOut(BaseModel):
    """A subscription; its secret is shown only once, in the create response."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra=examples(_SUBSCRIPTION_EXAMPLE)
    )

    id: int
    url: str
    description: str | None
    events: list[str]
    is_active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {**_SUBSCRIPTION_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
        )
    )

    secret: str = Field(description="Keep it: it is never shown again.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples(
            {
                "id": 31,
                "event_id": "evt_5f0c9a4e2b7d4c1e8a3f6b9d0e2c4a71",
                "event_type": "post.published",
                "attempt": 1,
                "status": "succeeded",
                "status_code": 200,
                "duration_ms": 84,
                "error": None,
                "created_at": "2024-05-02T10:00:01Z",
                "next_attempt_at": None,
                "payload": '{"id":"evt_5f0c9a4e2b7d4c1e8a3f6b9d0e2c4a71","type":"post.published",'
                '"timestamp":"2024-05-02T10:00:00Z","data":{"id":12}}',
            }
        ),
    )

    id: int
    event_id: str
    event_type: str
    attempt: int
    status: str = Field(examples=["succeeded"], description="pending|sending|succeeded|failed|…")
    status_code: int | None
    duration_ms: int | None
    error: str | None
    created_at: datetime
    next_attempt_at: datetime | None = Field(
        description="Pending: when it is due. Failed: when the retry is due (null: no retry)."
    )
    payload: str


class DeliveryPage(Page):
    items: list[DeliveryOut]


class SubscriptionPage(Page):
    items: list[SubscriptionOut]
