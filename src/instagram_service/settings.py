"""The one settings class. Nothing else in the service reads the environment."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_CDN_HOSTS = ["*.cdninstagram.com", "*.fbcdn.net"]

# Built-in inappropriate words (whole words, case- and accent-insensitive).
DEFAULT_BLOCKED_WORDS = [
    "fuck",
    "fucking",
    "motherfucker",
    "shit",
    "bullshit",
    "bitch",
    "cunt",
    "asshole",
    "whore",
    "slut",
    "porn",
    "porno",
    "nsfw",
    "nudes",
    "xxx",
]

CommaList = Annotated[list[str], NoDecode]
FloatList = Annotated[list[float], NoDecode]


class Broker(StrEnum):
    INPROCESS = "inprocess"
    REDIS = "redis"


class StorageKind(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class ApiFlavour(StrEnum):
    INSTAGRAM_LOGIN = "instagram"
    FACEBOOK_LOGIN = "facebook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IGS_", extra="ignore", validate_default=True)

    # Storage and infrastructure
    data_dir: Path = Field(Path("./data"), description="Folder for the SQLite file and media.")
    database_url: str = Field("", description="SQLAlchemy async URL; default: SQLite in data_dir.")
    media_dir: Path | None = Field(
        None, description="Media storage folder; default data_dir/media."
    )
    redis_url: str | None = Field(None, description="Redis URL for shared rate-limit state, locks.")
    broker: Broker = Field(Broker.INPROCESS, description="Task broker: inprocess or redis.")
    task_queue: str = Field("igs:tasks", description="Redis stream of the task queue.")
    db_pool_size: int = Field(10, ge=1, description="PostgreSQL connection pool size.")
    metrics_host: str = Field(
        "127.0.0.1", description="Address that workers and the scheduler serve metrics on."
    )
    metrics_port: int = Field(
        9100, ge=0, le=65535, description="Their metrics/probe port (worker N: +N); 0: none."
    )
    log_level: str = Field(
        "INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$", description="DEBUG adds tracebacks."
    )
    redis_retry_max_s: float = Field(
        30.0, gt=0, description="Cap of the backoff while Redis is unreachable."
    )

    # Instagram API
    api_flavour: ApiFlavour = Field(
        ApiFlavour.INSTAGRAM_LOGIN,
        description="Instagram Login (instagram) or Facebook Login (facebook).",
    )
    graph_base_url: str = Field("https://graph.instagram.com", description="Graph API host.")
    graph_api_version: str = Field("v25.0", description="Graph API version prefix.")
    oauth_token_url: str = Field(
        "https://api.instagram.com/oauth/access_token", description="OAuth code exchange URL."
    )
    authorize_url: str = Field(
        "https://www.instagram.com/oauth/authorize", description="OAuth authorize page."
    )
    oauth_redirect_uri: str = Field(
        "http://127.0.0.1:8000/api/v1/accounts/callback", description="OAuth redirect URI."
    )
    app_id: str | None = Field(None, description="Instagram app id.")
    app_secret: SecretStr | None = Field(
        None, description="Instagram app secret (webhooks, OAuth)."
    )
    webhook_verify_token: SecretStr | None = Field(None, description="Webhook handshake token.")
    page_size: int = Field(100, ge=1, le=100, description="Media page size (limit).")
    http_timeout_s: float = Field(20.0, gt=0, description="Instagram API request timeout.")
    api_max_retries: int = Field(3, ge=0, le=10, description="Retries of transient API errors.")
    api_retry_base_s: float = Field(0.5, ge=0, description="Base delay of the retry backoff.")
    rate_limit_slowdown_pct: float = Field(
        80.0, ge=0, le=100, description="Usage % above which calls slow down."
    )
    rate_limit_stop_pct: float = Field(
        95.0, ge=0, le=100, description="Usage % at which calls stop (before 100)."
    )
    rate_limit_max_delay_s: float = Field(
        2.0, ge=0, description="Longest delay inserted between slowdown and stop usage."
    )
    rate_limit_usage_ttl_s: float = Field(
        300.0, gt=0, description="How long a usage reading is trusted (stop lasts this long)."
    )
    rate_limit_backoff_base_s: float = Field(
        60.0, gt=0, description="First block after a rate-limit error without a retry time."
    )
    rate_limit_backoff_max_s: float = Field(
        3600.0, gt=0, description="Longest block after repeated rate-limit errors."
    )
    api_retry_max_s: float = Field(10.0, ge=0, description="Cap of one transient-retry delay.")

    # Security
    token_keys: CommaList = Field(
        default_factory=list, description="Fernet keys, comma-separated, newest first."
    )
    cors_origins: CommaList = Field(default_factory=list, description="Allowed CORS origins.")

    # Media
    download_allowed_hosts: CommaList = Field(
        default_factory=lambda: list(DEFAULT_CDN_HOSTS),
        description="Download allow-list, comma-separated, *. wildcards.",
    )
    download_allow_http: bool = Field(False, description="Allow plain HTTP downloads (not prod).")
    download_max_bytes: int = Field(30 * 1024 * 1024, gt=0, description="Download byte cap.")
    download_connect_timeout_s: float = Field(5.0, gt=0, description="Download connect timeout.")
    download_read_timeout_s: float = Field(15.0, gt=0, description="Download timeout per read.")
    download_total_timeout_s: float = Field(120.0, gt=0, description="Whole download deadline.")
    download_max_redirects: int = Field(5, ge=0, le=10, description="Redirects followed.")
    download_concurrency: int = Field(4, ge=1, le=64, description="Parallel image downloads.")
    download_videos: bool = Field(
        True, description="Download video files too (accounts can opt out one by one)."
    )
    video_max_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Video byte cap.")
    image_max_pixels: int = Field(50_000_000, gt=0, description="Pillow pixel limit.")
    image_workers: int = Field(2, ge=1, le=32, description="Processes for image encoding.")
    image_worker_nice: int = Field(
        10, ge=0, le=19, description="Niceness of image processes: the API's requests go first."
    )
    image_pool_at_start: bool = Field(
        True,
        description="An API that syncs in its own process starts its image processes at "
        "start-up, not in the middle of the first sync (where it slowed the gallery).",
    )
    webp_quality: int = Field(85, ge=1, le=100, description="WebP quality.")
    webp_method: int = Field(1, ge=0, le=6, description="WebP method (0 fastest, 6 smallest).")
    avif_enabled: bool = Field(False, description="Also write AVIF variants.")
    avif_quality: int = Field(60, ge=1, le=100, description="AVIF quality.")
    avif_speed: int = Field(8, ge=0, le=10, description="AVIF encoder speed (10 fastest).")
    image_background: str = Field("#ffffff", description="Background for flattened transparency.")
    keep_icc_profile: bool = Field(False, description="Keep ICC (else convert to sRGB).")
    media_retention_days: int = Field(30, ge=0, description="Days to keep deleted posts' files.")
    media_accel_redirect_prefix: str | None = Field(
        None, description="X-Accel-Redirect prefix for nginx (scaled mode)."
    )
    storage: StorageKind = Field(
        StorageKind.LOCAL, description="Where media files live: local (IGS_MEDIA_DIR) or s3."
    )
    s3_bucket: str | None = Field(None, description="S3 bucket (needed with IGS_STORAGE=s3).")
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint for MinIO, R2, B2...; default: AWS for the region."
    )
    s3_region: str | None = Field(None, description="S3 region; default: AWS_REGION or us-east-1.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket (a folder name).")
    s3_access_key_id: str | None = Field(
        None, description="S3 key id; default: the AWS environment or ~/.aws/credentials."
    )
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key.")
    media_public_url: str = Field(
        "", description="Public base URL of the media (CDN or bucket); else served by the API."
    )

    # Sync defaults
    sync_frequency_minutes: int = Field(60, ge=5, description="Default auto sync interval.")
    max_posts_to_sync: int = Field(50, ge=1, description="Posts refreshed by an incremental sync.")
    token_refresh_window_days: int = Field(10, ge=1, description="Refresh tokens expiring within.")
    scheduler_interval_s: int = Field(60, ge=1, description="Scheduler tick interval.")
    embedded_scheduler: bool = Field(
        True, description="Run the scheduler inside the API process (in-process broker only)."
    )
    job_heartbeat_timeout_s: int = Field(300, ge=10, description="RUNNING job without heartbeat.")
    featured_engagement_threshold: int = Field(
        1000, ge=0, description="likes + 3*comments above which a post is featured by default."
    )
    featured_hashtags: CommaList = Field(
        default_factory=lambda: ["#featured", "#bestof"], description="Hashtags that feature."
    )

    # Moderation
    moderation_blocked_words: CommaList = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED_WORDS),
        description="Words that reject a post, comma-separated; empty disables the list.",
    )
    moderation_batch_size: int = Field(
        200, ge=1, le=10_000, description="Posts per transaction when re-running the rules."
    )

    # Webhooks
    webhook_max_body_bytes: int = Field(1024 * 1024, gt=0, description="Incoming body cap.")
    webhook_allow_private_targets: bool = Field(
        False, description="Allow outgoing webhooks to private addresses."
    )
    webhook_delivery_timeout_s: float = Field(10.0, gt=0, description="Outgoing request timeout.")
    webhook_retry_delays_s: FloatList = Field(
        default_factory=lambda: [5.0, 60.0, 300.0, 1800.0],
        description="Delays before each retry of a failed outgoing webhook, comma-separated.",
    )
    webhook_retry_inline_max_s: float = Field(
        10.0, ge=0, description="Retries due sooner are awaited by the task; later: the sweep."
    )
    webhook_disable_after_failures: int = Field(
        5, ge=1, description="Consecutive failed deliveries that disable a subscription."
    )

    # HTTP API
    max_body_bytes: int = Field(
        256 * 1024, gt=0, description="Request body cap (the Instagram webhook has its own)."
    )
    gallery_cache_seconds: int = Field(30, ge=0, description="Gallery Cache-Control max-age.")
    public_base_url: str = Field(
        "",
        description="Absolute base of the URLs in public JSON (else the request's scheme and "
        "host); set it in production (otherwise each Host header sent gets its own cached "
        "responses).",
    )

    # Admin console
    admin_session_secret: SecretStr | None = Field(
        None, description="Signs admin console session cookies (the console is off without it)."
    )
    admin_session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="Admin console sessions expire after this."
    )

    @field_validator(
        "token_keys", "cors_origins", "download_allowed_hosts", "featured_hashtags", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("moderation_blocked_words", mode="before")
    @classmethod
    def _split_words(cls, value: Any) -> Any:
        return cls._split_commas(value)

    @field_validator("webhook_retry_delays_s", mode="before")
    @classmethod
    def _split_delays(cls, value: Any) -> Any:
        return cls._split_commas(value)

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'instagram_service.db'}"
        if self.media_dir is None:
            self.media_dir = self.data_dir / "media"
        if self.broker is Broker.REDIS and not self.redis_url:
            raise ValueError("IGS_BROKER=redis needs IGS_REDIS_URL")
        if self.storage is StorageKind.S3 and not self.s3_bucket:
            raise ValueError("IGS_STORAGE=s3 needs IGS_S3_BUCKET")
        self.s3_prefix = self.s3_prefix.strip("/")
        self.media_public_url = self.media_public_url.rstrip("/")
        return self

    @property
    def media_root(self) -> Path:
        assert self.media_dir is not None
        return self.media_dir

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def settings_error_message(exc: ValidationError) -> str:
    """Name the environment variable behind each invalid value."""
    lines = ["invalid settings:"]
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        name = f"IGS_{field.upper()}" if field != "settings" else "IGS_* settings"
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)


def settings_table() -> str:
    """The README's configuration table, generated from this class (a test keeps them equal)."""
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        if info.default_factory is not None:
            default: Any = info.default_factory()  # type: ignore[call-arg]
        else:
            default = info.default
        if isinstance(default, list):
            default = ",".join(str(item) for item in default)
        shown = "(none)" if default in (None, "") else f"`{default}`"
        if name == "database_url":
            shown = "SQLite file in `IGS_DATA_DIR`"
        elif name == "media_dir":
            shown = "`$IGS_DATA_DIR/media`"
        rows.append(f"| `IGS_{name.upper()}` | {shown} | {info.description or ''} |")
    return "\n".join(rows)
