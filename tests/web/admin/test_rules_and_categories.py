"""Rules with a dry-run preview, then applied; categories as data."""

from __future__ import annotations

import httpx
from playwright.async_api import Page
from sqlalchemy import select

from instagram_service.models import Category, ContentFilter, InstagramPost
from tests.web.admin.conftest import Keys, Site, login
from tests.web.admin.test_moderation import gallery_ids, reset_all
from tests.web.browser import screenshot


async def test_write_a_rule_preview_it_then_apply(page: Page, site: Site, keys: Keys) -> None:
    await reset_all(site)
    async with site.db.session() as session:
        posts = list(await session.scalars(select(InstagramPost).order_by(InstagramPost.id)))
        # Captions are generated: tag three posts so that the rule has something to hide.
        targets = [p.id for p in posts[:3]]
        for post in posts[:3]:
            post.hashtags = [*post.hashtags, "#competitor"]
    assert set(targets) <= set(await gallery_ids(site))
    await login(page, site, keys.admin, "/admin/rules")
    await page.get_by_role("link", name="New rule").click()
    await page.get_by_label("Name").fill("No competitors")
    await page.get_by_label("Hide posts with these hashtags").fill("#competitor")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Preview").click()
    await screenshot(page, "admin-rule-preview-desktop")
    heading = await page.locator("#preview-title").text_content()
    assert heading == "Preview: Would hide 3 posts."
    assert await page.locator("#preview img").count() == 3
    async with site.db.session() as session:  # a preview saves nothing
        assert await session.scalar(select(ContentFilter.id)) is None
    assert set(targets) <= set(await gallery_ids(site))
    # The form kept what was typed; save and apply.
    assert await page.get_by_label("Name").input_value() == "No competitors"
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save and apply to every post").click()
    assert "saved and applied" in (await page.get_by_role("status").text_content() or "")
    assert not set(targets) & set(await gallery_ids(site))
    assert await page.get_by_role("link", name="No competitors").is_visible()
    # Edit it: the preview of switching it off would show them again.
    await page.get_by_role("link", name="No competitors").click()
    await page.get_by_label("Active").uncheck()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Preview").click()
    assert await page.locator("#preview-title").text_content() == "Preview: Would approve 3 posts."
    async with site.db.session() as session:
        for row in await session.scalars(select(ContentFilter)):
            await session.delete(row)
        for post in await session.scalars(
            select(InstagramPost).where(InstagramPost.id.in_(targets))
        ):
            post.hashtags = [t for t in post.hashtags if t != "#competitor"]


async def test_invalid_rule_is_shown_again_with_the_error(
    page: Page, site: Site, keys: Keys
) -> None:
    await login(page, site, keys.admin, "/admin/rules/new")
    await page.get_by_label("Name").fill("Bad")
    await page.get_by_label("Put matching posts in a category:").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save", exact=True).click()
    assert "auto_categorize needs a category" in (
        await page.get_by_role("alert").text_content() or ""
    )
    assert await page.get_by_label("Name").input_value() == "Bad"


async def test_categories_create_use_rename_delete(page: Page, site: Site, keys: Keys) -> None:
    async with httpx.AsyncClient(base_url=site.base) as http:
        headers = {"Authorization": f"Bearer {keys.admin}"}
        post_id = (await gallery_ids(site))[0]
        refused = await http.patch(f"/api/v1/posts/{post_id}", json={"gallery_category": "bridal"},
                                   headers=headers)  # fmt: skip
        assert refused.status_code == 422
        assert "unknown category 'bridal'" in refused.json()["detail"]
        await login(page, site, keys.admin, "/admin/categories")
        for name in ("before_after", "portfolio", "tutorial", "product", "personal", "general"):
            assert await page.locator(f"#category-{name}").is_visible()
        await page.get_by_label("New category").fill("bridal")
        async with page.expect_navigation():
            await page.get_by_label("New category").press("Enter")
        assert await page.locator("#category-bridal").is_visible()
        # Posts may use it now, from the API and the moderation page alike.
        allowed = await http.patch(f"/api/v1/posts/{post_id}", json={"gallery_category": "bridal"},
                                   headers=headers)  # fmt: skip
        assert allowed.status_code == 200
        await page.goto(f"{site.base}/admin/categories")
        async with site.db.session() as session:
            row_id = await session.scalar(select(Category.id).where(Category.name == "bridal"))
        await page.get_by_label("New name for bridal").fill("weddings")
        async with page.expect_navigation():
            await page.get_by_label("New name for bridal").press("Enter")
        assert (await http.get(f"/api/v1/posts/{post_id}")).json()["category"] == "weddings"
        page.once("dialog", lambda dialog: dialog.accept())
        async with page.expect_navigation():
            await page.get_by_role("button", name="Delete weddings").click()
        assert "1 posts moved to 'general'" in (
            await page.get_by_role("status").text_content() or ""
        )
        assert (await http.get(f"/api/v1/posts/{post_id}")).json()["category"] == "general"
        assert await page.locator("#category-weddings").count() == 0
        gone = await http.delete(f"/api/v1/categories/{row_id}", headers=headers)
        assert gone.status_code == 404
