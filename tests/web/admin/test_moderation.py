"""Moderation in the browser: each decision shows in the public gallery."""

from __future__ import annotations

import httpx
from playwright.async_api import Page
from sqlalchemy import select

from instagram_service.models import InstagramPost
from tests.web.admin.conftest import Keys, Site, login
from tests.web.conftest import PageErrors


async def make_pending(site: Site, count: int) -> list[int]:
    """Put the newest approved posts back in the queue, as the rules would leave new ones."""
    async with site.db.session() as session:
        posts = list(
            await session.scalars(
                select(InstagramPost)
                .where(InstagramPost.deleted_at.is_(None), InstagramPost.media_type == "IMAGE")
                .order_by(InstagramPost.posted_at.desc(), InstagramPost.id.desc())
                .limit(count)
            )
        )
        for post in posts:
            post.is_approved = None
            post.is_featured = False
            post.display_order = 0
            post.manual_fields = []
        return [post.id for post in posts]


async def gallery_ids(site: Site, path: str = "/api/v1/gallery?limit=100") -> list[int]:
    async with httpx.AsyncClient(base_url=site.base) as http:
        response = await http.get(path)
        response.raise_for_status()
        return [item["id"] for item in response.json()["items"]]


async def reset_all(site: Site) -> None:
    async with site.db.session() as session:
        for post in await session.scalars(select(InstagramPost)):
            post.is_approved, post.is_featured, post.display_order = True, False, 0
            post.manual_fields = []


async def test_approve_reject_feature_show_in_the_gallery(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    await reset_all(site)
    first, second = await make_pending(site, 2)
    assert first not in await gallery_ids(site)
    await login(page, site, keys.admin, "/admin/moderation")
    card = page.locator(f"#post-{first}")
    async with page.expect_navigation():
        await card.get_by_role("button", name="Approve").click()
    assert "approved" in (await page.get_by_role("status").text_content() or "")
    assert first in await gallery_ids(site)

    await page.goto(f"{site.base}/admin/moderation?status=all")
    async with page.expect_navigation():
        await page.locator(f"#post-{first}").get_by_role("button", name="Feature").click()
    assert first in await gallery_ids(site, "/api/v1/gallery/featured")
    assert (await gallery_ids(site))[0] == first  # featured first

    async with page.expect_navigation():
        await page.locator(f"#post-{first}").get_by_role("button", name="Reject").click()
    assert first not in await gallery_ids(site)
    assert second not in await gallery_ids(site)  # still pending
    assert page_errors == []


async def test_reorder_with_the_keyboard_and_by_drag_and_drop(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    await reset_all(site)
    before = await gallery_ids(site)
    await login(page, site, keys.admin, "/admin/moderation?status=approved")
    # Keyboard only: tab to the second post's "Up" button and press Enter.
    up = page.locator(f"#post-{before[1]}").get_by_role("button", name=f"Move post {before[1]} up")
    await up.focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    after = await gallery_ids(site)
    assert after[:2] == [before[1], before[0]]
    assert after[2:] == before[2:]
    # Focus comes back to the moved post after the reload.
    focused = await page.evaluate(
        "() => [document.activeElement.closest('.post')?.id, document.activeElement.value]"
    )
    assert focused == [f"post-{before[1]}", "up"]

    # Drag the second post above the first (both in view: a drag does not scroll).
    await page.set_viewport_size({"width": 1280, "height": 1600})
    async with page.expect_navigation():  # the script reloads once the server agreed
        async with page.expect_response("**/admin/posts/reorder") as answer:
            await page.locator(f"#post-{after[1]}").drag_to(
                page.locator(f"#post-{after[0]}"), target_position={"x": 20, "y": 5}
            )
    assert (await answer.value).ok
    dragged = await gallery_ids(site)
    assert dragged[:2] == [after[1], after[0]]
    assert dragged[2:] == after[2:]
    assert page_errors == []


async def test_edit_alt_text(page: Page, site: Site, keys: Keys) -> None:
    await reset_all(site)
    post_id = (await gallery_ids(site))[0]
    async with site.db.session() as session:
        post = await session.get(InstagramPost, post_id)
        assert post is not None
        post.alt_text = None  # as Instagram leaves most posts
    await login(page, site, keys.admin, "/admin/moderation?status=approved")
    card = page.locator(f"#post-{post_id}")
    note = page.locator(f"#alt-note-{post_id}")
    assert "generated" in (await note.text_content() or "")
    assert await card.get_by_label("Alt text").input_value() == ""  # the generated one is a hint
    await card.get_by_label("Alt text").fill("A glazed blue mug on a wooden table")
    async with page.expect_navigation():
        await card.get_by_label("Alt text").press("Enter")
    assert "written by an admin" in (
        await page.locator(f"#alt-note-{post_id}").text_content() or ""
    )
    async with httpx.AsyncClient(base_url=site.base) as http:
        item = (await http.get(f"/api/v1/posts/{post_id}")).json()
    assert item["alt_text"] == "A glazed blue mug on a wooden table"


async def test_bulk_approve_then_undo(page: Page, site: Site, keys: Keys) -> None:
    await reset_all(site)
    ids = await make_pending(site, 3)
    await login(page, site, keys.admin, "/admin/moderation?status=pending")
    for post_id in ids[:2]:
        await page.get_by_label(f"Select post {post_id}", exact=True).check()
    await page.get_by_label("With the selected posts").select_option("approve")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Apply to selected").click()
    public = await gallery_ids(site)
    assert set(ids[:2]) <= set(public)
    assert ids[2] not in public
    async with page.expect_navigation():
        await page.get_by_role("button", name="Undo").click()
    assert "Undone" in (await page.get_by_role("status").text_content() or "")
    assert not set(ids) & set(await gallery_ids(site))
    async with site.db.session() as session:
        for post_id in ids[:2]:
            post = await session.get(InstagramPost, post_id)
            assert post is not None
            assert post.is_approved is None
            assert "is_approved" not in post.manual_fields


async def test_reset_to_automatic_shows_why(page: Page, site: Site, keys: Keys) -> None:
    await reset_all(site)
    (post_id,) = await make_pending(site, 1)
    await login(page, site, keys.admin, "/admin/moderation?status=pending")
    async with page.expect_navigation():
        await page.locator(f"#post-{post_id}").get_by_role("button", name="Reject").click()
    await page.goto(f"{site.base}/admin/moderation?status=rejected")
    card = page.locator(f"#post-{post_id}")
    await card.get_by_text("Why this decision").click()
    assert "approval: admin" in " ".join(await card.locator(".why li").all_text_contents())
    async with page.expect_navigation():
        await card.get_by_role("button", name="Reset to automatic").click()
    await page.goto(f"{site.base}/admin/moderation?status=all")
    card = page.locator(f"#post-{post_id}")
    reasons = " ".join(await card.locator(".why li").all_text_contents())
    assert "approval: default" in reasons or "approval: rule" in reasons, reasons
    assert post_id in await gallery_ids(site)  # the defaults approve it again
