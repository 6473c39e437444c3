"""feeds (named public galleries, one default per account) and the per-account video opt-out

Revision ID: 0003
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import instagram_service.db

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    feeds = op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("account_ids", _json(), nullable=False),
        sa.Column("categories", _json(), nullable=False),
        sa.Column("featured_only", sa.Boolean(), nullable=False),
        sa.Column("max_posts", sa.Integer(), nullable=True),
        sa.Column("ordering", sa.String(length=16), nullable=False),
        sa.Column("display", _json(), nullable=False),
        sa.Column("allowed_origins", _json(), nullable=False),
        sa.Column("default_for_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", instagram_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", instagram_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_for_account_id"],
            ["instagram_accounts.id"],
            name=op.f("fk_feeds_default_for_account_id_instagram_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("default_for_account_id", name=op.f("uq_feeds_default_for_account_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_feeds_slug")),
    )
    # Not batch mode: on SQLite a copied table would be dropped, and with foreign_keys=ON that
    # DROP deletes every post through ON DELETE CASCADE (see 0002). A plain ADD COLUMN.
    op.add_column(
        "instagram_accounts",
        sa.Column("download_videos", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    # Accounts connected before feeds existed get their default feed here, as new ones do
    # when they are connected.
    connection = op.get_bind()
    accounts = connection.execute(sa.text("SELECT id, username FROM instagram_accounts"))
    now = instagram_service.db.utcnow()
    rows = [
        {
            "slug": _slug(username, account_id),
            "title": f"@{username}",
            "account_ids": [account_id],
            "categories": [],
            "featured_only": False,
            "ordering": "curated",
            "display": {},
            "allowed_origins": [],
            "default_for_account_id": account_id,
            "created_at": now,
            "updated_at": now,
        }
        for account_id, username in accounts
    ]
    if rows:
        op.bulk_insert(feeds, rows)


def _slug(username: str, account_id: int) -> str:
    # The same rule as feeds.service.default_slug, frozen here as migrations must be.
    text = "".join(c for c in username.lower() if c.isascii() and (c.isalnum() or c in "._-"))
    text = text.strip("._-")[:56] or f"account-{account_id}"
    return f"{text}-feed" if text.isdigit() else text


def downgrade() -> None:
    op.drop_column("instagram_accounts", "download_videos")
    op.drop_table("feeds")
