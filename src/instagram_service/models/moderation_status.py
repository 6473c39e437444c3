"""A post's moderation status, derived from `is_approved`: one definition for the admin
shape, the admin list's `status` filter and the rules' reports."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement

from instagram_service.models.post import InstagramPost


class ModerationStatus(StrEnum):
    PENDING = "pending"  # is_approved is null: no rule or admin decided yet
    APPROVED = "approved"
    REJECTED = "rejected"

    @classmethod
    def of(cls, is_approved: bool | None) -> ModerationStatus:
        if is_approved is None:
            return cls.PENDING
        return cls.APPROVED if is_approved else cls.REJECTED

    def clause(self) -> ColumnElement[bool]:
        """Posts in this status, as a WHERE clause (on `is_approved`, which is indexed)."""
        if self is ModerationStatus.PENDING:
            return InstagramPost.is_approved.is_(None)
        return InstagramPost.is_approved.is_(self is ModerationStatus.APPROVED)
