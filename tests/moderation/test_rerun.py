"""Re-running the rules over every post, in committed batches."""

from __future__ import annotations

from sqlalchemy import select

from instagram_service.db import Database, utcnow
from instagram_service.models import ContentFilter, InstagramPost
from instagram_service.moderation.rerun import rerun_moderation
from instagram_service.settings import Settings
from tests.support.factories import make_account, make_post
from tests.support.moderation import filter_fields


async def test_rerun_applies_new_rules_and_keeps_admin_decisions(
    clean_db: Database, settings: Settings
) -> None:
    async with clean_db.session() as session:
        account = await make_account(session)
        for n in range(5):
            await make_post(session, account, caption=f"post {n} #sale")
        manual = await make_post(
            session,
            account,
            caption="#sale",
            is_approved=True,
            manual_fields=["is_approved"],
            moderation_reason={"approval": "admin"},
        )
        deleted = await make_post(session, account, caption="#sale", deleted_at=utcnow())
        session.add(ContentFilter(**filter_fields(name="No sales", blacklist_hashtags=["#sale"])))

    calls: list[tuple[int, int]] = []
    small = settings.model_copy(update={"moderation_batch_size": 2})
    result = await rerun_moderation(clean_db, small, progress=lambda d, t: calls.append((d, t)))

    assert (result.processed, result.changed) == (6, 6)
    assert calls == [(2, 6), (4, 6), (6, 6)]
    async with clean_db.session() as session:
        posts = {p.id: p for p in await session.scalars(select(InstagramPost))}
    assert posts[manual.id].is_approved is True
    assert posts[manual.id].moderation_reason["approval"] == "admin"
    assert posts[deleted.id].is_approved is True  # deleted posts are left alone
    others = [p for pid, p in posts.items() if pid not in (manual.id, deleted.id)]
    assert {p.is_approved for p in others} == {False}
    reason = others[0].moderation_reason["approval"]
    assert reason.endswith("'No sales': blacklisted hashtag #sale")

    again = await rerun_moderation(clean_db, settings)
    assert (again.processed, again.changed) == (6, 0)


async def test_rerun_of_nothing(clean_db: Database, settings: Settings) -> None:
    result = await rerun_moderation(clean_db, settings)
    assert (result.processed, result.changed) == (0, 0)
