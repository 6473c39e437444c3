"""categories as data (six seeded defaults) and API keys scoped to accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from instagram_service.db import JSONType, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTS = ("before_after", "portfolio", "tutorial", "product", "personal", "general")


def upgrade() -> None:
    table = op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(table, [{"name": n, "created_at": now, "updated_at": now} for n in DEFAULTS])
    # Plain ADD COLUMN (nullable, no default): no table copy on SQLite.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_ids", JSONType, nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "account_ids")
    op.drop_table("categories")
