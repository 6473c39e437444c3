"""The seam the sync engine calls: rules loaded once, admin fields never touched."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.instagram.schemas import IGMedia
from instagram_service.models import ContentFilter
from instagram_service.moderation.moderator import RulesModeration
from instagram_service.settings import Settings
from instagram_service.sync.ports import ModerationPort
from instagram_service.sync.upsert import upsert_post
from tests.factories import make_account, make_post
from tests.moderation.support import filter_fields


async def add_filter(session: AsyncSession, **fields: object) -> ContentFilter:
    row = ContentFilter(**filter_fields(**fields))
    session.add(row)
    await session.flush()
    return row


async def test_prepare_loads_only_active_rules(session: AsyncSession, settings: Settings) -> None:
    await add_filter(session, name="on", blacklist_keywords=["spam"])
    await add_filter(session, name="off", blacklist_keywords=["hello"], is_active=False)
    seam: ModerationPort = RulesModeration(settings)
    moderator = await seam.prepare(session)
    account = await make_account(session)
    spam = await make_post(session, account, caption="spam", is_approved=None)
    hello = await make_post(session, account, caption="hello", is_approved=None)
    moderator.apply(spam, account)
    moderator.apply(hello, account)
    assert spam.is_approved is False
    assert hello.is_approved is True


async def test_apply_sets_reasons_and_is_idempotent(
    session: AsyncSession, settings: Settings
) -> None:
    rule = await add_filter(
        session, name="Tips", keywords=["tips"], auto_categorize=True, category="tutorial"
    )
    moderator = await RulesModeration(settings).prepare(session)
    account = await make_account(session)
    post = await make_post(session, account, caption="5 tips", is_approved=None)
    assert moderator.apply_changed(post, account) is True
    assert post.moderation_reason == {
        "approval": "default: approve (no rule rejected it)",
        "featured": "default: not featured (engagement 0, not above 1000)",
        "category": f"rule {rule.id} 'Tips': auto categorise (keyword 'tips')",
    }
    assert moderator.apply_changed(post, account) is False


async def test_apply_never_touches_manual_fields(session: AsyncSession, settings: Settings) -> None:
    await add_filter(session, name="No sale", blacklist_keywords=["sale"])
    moderator = await RulesModeration(settings).prepare(session)
    account = await make_account(session)
    post = await make_post(
        session,
        account,
        caption="Big sale #featured",
        is_approved=True,
        is_featured=False,
        gallery_category="personal",
        display_order=7,
        manual_fields=["is_approved", "is_featured", "gallery_category", "display_order"],
        moderation_reason={"approval": "admin", "featured": "admin", "category": "admin"},
    )
    moderator.apply(post, account)
    assert (post.is_approved, post.is_featured, post.gallery_category, post.display_order) == (
        True,
        False,
        "personal",
        7,
    )
    assert post.moderation_reason == {"approval": "admin", "featured": "admin", "category": "admin"}


async def test_apply_sets_only_the_fields_not_set_by_hand(
    session: AsyncSession, settings: Settings
) -> None:
    moderator = await RulesModeration(settings).prepare(session)
    account = await make_account(session)
    post = await make_post(
        session,
        account,
        caption="how to braid #featured",
        is_approved=False,
        manual_fields=["is_approved"],
        moderation_reason={"approval": "admin"},
    )
    moderator.apply(post, account)
    assert post.is_approved is False
    assert post.is_featured is True
    assert post.gallery_category == "tutorial"
    assert post.moderation_reason["approval"] == "admin"


async def test_admin_decisions_survive_a_sync(session: AsyncSession, settings: Settings) -> None:
    await add_filter(
        session, name="Shop", keywords=["shop"], auto_categorize=True, category="product"
    )
    moderator = await RulesModeration(settings).prepare(session)
    account = await make_account(session)
    media = IGMedia(id="900001", caption="New in the shop", media_type="IMAGE", like_count=3)
    _, post = upsert_post(session, account, media, None, moderator)
    await session.flush()
    assert (post.is_approved, post.gallery_category) == (True, "product")

    post.is_approved = False
    post.gallery_category = "portfolio"
    post.manual_fields = ["is_approved", "gallery_category"]
    changed = media.model_copy(update={"caption": "Still in the shop #featured"})
    upsert_post(session, account, changed, post, moderator)
    assert (post.is_approved, post.gallery_category) == (False, "portfolio")
    assert post.is_featured is True  # automatic, so the new caption counts
