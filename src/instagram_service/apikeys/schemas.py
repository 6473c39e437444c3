from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from instagram_service.kit.openapi import examples
from instagram_service.kit.pagination import MAX_ID, Page

_KEY_EXAMPLE = {
    "id": 3,
    "name": "website",
    "scope": "read",
    "prefix": "igs_Xk3v9Q",
    "created_at": "2024-05-02T09:00:00Z",
    "last_used_at": "2024-05-02T10:15:00Z",
    "revoked_at": None,
    "account_ids": None,
}


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255, examples=["website"])
    scope: Literal["admin", "read"] = "read"
    account_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None,
        max_length=1000,
        description="Only these accounts (their posts, syncs and feeds); omitted: all accounts.",
    )


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=examples(_KEY_EXAMPLE))

    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    account_ids: list[int] | None = Field(description="null: every account.")


class ApiKeyCreated(ApiKeyOut):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                **_KEY_EXAMPLE,
                "last_used_at": None,
                "key": "igs_Xk3v9QmT2rW8pL5nB7cY1dF4gH6jK0sAe3w48v4XcQxQ",
            }
        )
    )

    key: str = Field(description="The key itself, shown only in this response.")


class ApiKeyPage(Page):
    items: list[ApiKeyOut]
