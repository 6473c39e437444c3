"""The feeds page: create a feed, the live preview is the widget with the chosen attributes."""

from __future__ import annotations

from playwright.async_api import Page

from tests.web.admin.conftest import Keys, Site, login
from tests.web.browser import axe_violations, describe, screenshot
from tests.web.conftest import PageErrors


async def test_create_a_feed_preview_it_live_and_copy_the_snippet(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    names = {i: name for name, i in site.accounts.items()}
    await login(page, site, keys.admin, "/admin/feeds/new")
    await page.get_by_label("Title").fill("Both studios")
    await page.get_by_label("Slug (in the snippet and the URL)").fill("both")
    for account_id in site.accounts.values():
        await page.get_by_label(f"@{names[account_id]}").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save feed").click()
    assert "Feed 'both' saved." in (await page.get_by_role("status").text_content() or "")
    gallery = page.locator("[data-feed-preview] instagram-gallery")
    await gallery.locator("img").first.wait_for()  # the widget rendered real posts
    assert await gallery.get_attribute("feed") == "both"
    await page.get_by_label("Layout").select_option("masonry")
    await page.get_by_label("Columns on a desktop").fill("3")
    await page.get_by_label("Captions").uncheck()
    gallery = page.locator("[data-feed-preview] instagram-gallery")
    assert await gallery.get_attribute("layout") == "masonry"
    assert await gallery.get_attribute("columns") == "2 3 3"
    assert await gallery.get_attribute("captions") == "false"
    await gallery.locator("img").first.wait_for()
    snippet = await page.locator("#snippet").text_content() or ""
    assert '<script type="module" src="' in snippet
    assert '<instagram-gallery feed="both" layout="masonry"' in snippet
    assert "api=" not in snippet
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await screenshot(page, "admin-feed-preview-desktop")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save feed").click()
    async with site.db.session() as session:
        from sqlalchemy import select

        from instagram_service.models import Feed

        feed = await session.scalar(select(Feed).where(Feed.slug == "both"))
        assert feed is not None
        assert feed.display["layout"] == "masonry"
        assert feed.display["captions"] is False
    assert page_errors == []


async def test_a_scoped_key_lists_only_feeds_of_its_accounts(
    page: Page, site: Site, keys: Keys
) -> None:
    await login(page, site, keys.scoped, "/admin/feeds")
    rows = await page.locator("tbody tr").all_text_contents()
    assert rows
    assert not any("Both studios" in row for row in rows)
