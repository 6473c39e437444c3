"""What the emulator serves: an app, accounts with tokens, media and faults.

A scenario is a Pydantic model, saved to and loaded from JSON, or built in Python.
Token times are relative to the moment the emulator loads the scenario, so a saved scenario
never goes stale.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DAY = 86400.0

MediaType = Literal["IMAGE", "VIDEO", "CAROUSEL_ALBUM"]
ProductType = Literal["FEED", "REELS", "STORY", "AD"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ScenarioChild(_Model):
    id: str = Field(pattern=r"^\d+$")
    media_type: Literal["IMAGE", "VIDEO"] = "IMAGE"
    width: int = 1080
    height: int = 1350
    alt_text: str | None = None


class ScenarioMedia(_Model):
    id: str = Field(pattern=r"^\d+$")
    media_type: MediaType = "IMAGE"
    media_product_type: ProductType = "FEED"
    caption: str | None = None
    timestamp: datetime
    shortcode: str
    like_count: int | None = 0  # None: the owner hides the count (the field is left out)
    comments_count: int = 0
    is_comment_enabled: bool = True
    is_shared_to_feed: bool | None = None  # reels only
    alt_text: str | None = None
    width: int = 1080
    height: int = 1080
    media_url_withheld: bool = False  # a reel with licensed audio: no media_url, cover only
    children: list[ScenarioChild] = Field(default_factory=list)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScenarioToken(_Model):
    token: str
    kind: Literal["long", "short"] = "long"
    age_s: float = 0.0  # issued this long before the emulator starts
    expires_in_s: float = 60 * DAY
    status: Literal["valid", "revoked", "password_changed"] = "valid"


class ScenarioAccount(_Model):
    user_id: str  # the professional account id (webhooks' entry[].id)
    id: str | None = None  # the app-scoped id /me returns as `id`; default: user_id
    username: str
    name: str = ""
    account_type: Literal["BUSINESS", "MEDIA_CREATOR"] = "BUSINESS"
    biography: str | None = None
    website: str | None = None
    followers_count: int = 0
    follows_count: int = 0
    page_id: str | None = None  # the Facebook Page (Facebook Login flavour)
    call_budget: int = 4800  # calls per usage window before rate-limit errors
    tokens: list[ScenarioToken] = Field(default_factory=list)
    media: list[ScenarioMedia] = Field(default_factory=list)


class FaultConfig(_Model):
    """Failures to inject into Graph calls (the CDN only honours `truncate_images`)."""

    error_rate: float = Field(0.0, ge=0, le=1)  # share of calls answering a transient error
    error_http_status: int = 500
    fail_next: int = Field(0, ge=0)  # the next N calls answer the error `fail_code`
    fail_code: int = 2  # 1/2: transient (error_http_status); others, e.g. 10: HTTP 400
    latency_s: float = Field(0.0, ge=0)
    timeout_next: int = Field(0, ge=0)  # the next N calls sleep timeout_s before answering
    timeout_s: float = Field(30.0, ge=0)
    truncate_images: bool = False  # CDN files cut in half (Content-Length matches the cut)
    token_invalid_after: int | None = None  # an account's token fails with 190 after N calls
    token_invalid_subcode: int = 463
    usage_pct: float | None = None  # report at least this usage; >= 100 answers rate limits
    rate_limit_code: Literal[4, 17, 32, 613, 80002] = 80002
    regain_minutes: int = 5
    strict_cursors: bool = False  # a cursor on a deleted media fails, as Instagram's do
    seed: int = 0


class Scenario(_Model):
    name: str = "custom"
    app_id: str = "1000000000000001"
    app_secret: str = "emulator-app-secret"  # noqa: S105 (a fake app's secret)
    link_lifetime_s: float = 3 * DAY  # CDN links expire this long after the API returns them
    usage_window_s: float = DAY  # call budgets are counted over this window
    webhook_url: str | None = None  # media added/edited/deleted send `media` events here
    faults: FaultConfig = Field(default_factory=FaultConfig)
    accounts: list[ScenarioAccount] = Field(default_factory=list)

    def to_json(self) -> str:
        return self.model_dump_json(indent=1, exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        return cls.model_validate_json(text)
