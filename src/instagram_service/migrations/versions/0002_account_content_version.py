"""account content_version: a change counter for the gallery caches of other processes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on SQLite too (batch mode does not copy the table
    # for a column with a constant default); existing rows start at 0.
    with op.batch_alter_table("instagram_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    # Not batch mode: on SQLite it would copy the table and DROP the old one, and with
    # foreign_keys=ON that DROP deletes every post through ON DELETE CASCADE. SQLite >= 3.35
    # drops a plain column in place, as PostgreSQL does.
    op.drop_column("instagram_accounts", "content_version")
