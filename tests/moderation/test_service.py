"""Filter CRUD and admin decisions, through the service functions."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.errors import NotFound
from instagram_service.moderation import service
from instagram_service.moderation.schemas import (
    FilterCreate,
    FilterUpdate,
    PostPatch,
)
from instagram_service.settings import Settings
from tests.support.factories import make_account, make_post


async def test_filter_crud(session: AsyncSession) -> None:
    created = await service.create_filter(
        session, FilterCreate(name="  Tips ", keywords=["How  To"], blacklist_hashtags=["Cheap"])
    )
    assert (created.name, created.keywords, created.blacklist_hashtags) == (
        "Tips",
        ["How To"],
        ["#cheap"],
    )
    updated = await service.update_filter(session, created.id, FilterUpdate(priority=5))
    assert updated.priority == 5
    assert updated.name == "Tips"
    await service.delete_filter(session, created.id)
    with pytest.raises(NotFound, match=f"content filter {created.id} not found"):
        await service.get_filter(session, created.id)


async def test_filters_are_listed_in_run_order(session: AsyncSession) -> None:
    b = await service.create_filter(session, FilterCreate(name="b", priority=5))
    a = await service.create_filter(session, FilterCreate(name="a", priority=1))
    c = await service.create_filter(session, FilterCreate(name="c", priority=5))
    ids = [row.id for row in await service.list_filters(session)]
    assert ids == [a.id, b.id, c.id]


async def test_update_checks_the_merged_filter(session: AsyncSession) -> None:
    row = await service.create_filter(session, FilterCreate(name="x"))
    with pytest.raises(service.Unprocessable, match="auto_categorize needs a category"):
        await service.update_filter(session, row.id, FilterUpdate(auto_categorize=True))
    assert row.auto_categorize is False


async def test_patch_marks_fields_manual(session: AsyncSession) -> None:
    account = await make_account(session)
    post = await make_post(session, account, moderation_reason={"approval": "default: x"})
    patch = PostPatch(is_featured=True, gallery_category="portfolio", alt_text="A bob cut")
    await service.update_post(session, post.id, patch)
    assert post.manual_fields == ["is_featured", "gallery_category", "alt_text"]
    assert post.moderation_reason == {
        "approval": "default: x",
        "featured": "admin",
        "category": "admin",
    }
    assert post.alt_text == "A bob cut"


async def test_patch_unknown_post(session: AsyncSession) -> None:
    with pytest.raises(NotFound, match="post 999999 not found"):
        await service.update_post(session, 999_999, PostPatch(is_approved=True))


async def test_reset_moderation_reapplies_rules(session: AsyncSession, settings: Settings) -> None:
    account = await make_account(session)
    post = await make_post(session, account, caption="before and after", is_approved=None)
    await service.update_post(
        session, post.id, PostPatch(is_approved=False, display_order=3, gallery_category="product")
    )
    await service.reset_moderation(session, settings, post.id)
    assert post.manual_fields == []
    assert (post.is_approved, post.gallery_category, post.display_order) == (
        True,
        "before_after",
        0,
    )
    assert "order" not in post.moderation_reason
    assert post.moderation_reason["approval"] == "default: approve (no active rules)"


async def test_bulk_moderation(session: AsyncSession) -> None:
    account = await make_account(session)
    posts = [await make_post(session, account, is_approved=None) for _ in range(3)]
    ids = [p.id for p in posts]
    assert await service.bulk_moderate(session, ids + ids[:1], "reject") == ids
    assert [p.is_approved for p in posts] == [False, False, False]
    assert all(p.manual_fields == ["is_approved"] for p in posts)
    assert all(p.moderation_reason["approval"] == "admin" for p in posts)


async def test_bulk_moderation_is_all_or_nothing(session: AsyncSession) -> None:
    account = await make_account(session)
    post = await make_post(session, account, is_approved=None)
    with pytest.raises(NotFound, match="posts not found: 999998, 999999"):
        await service.bulk_moderate(session, [post.id, 999_999, 999_998], "approve")
    assert post.is_approved is None
