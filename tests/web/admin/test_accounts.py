"""Accounts in the browser: Connect through the emulator's authorize page, sync now, jobs."""

from __future__ import annotations

import httpx
from playwright.async_api import Page
from sqlalchemy import select

from instagram_service.models import InstagramAccount, SyncJob
from tests.web.admin.conftest import Keys, Site, login
from tests.web.browser import axe_violations, describe, screenshot
from tests.web.conftest import PageErrors


async def test_connect_an_account_end_to_end(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    third = site.emulator.state.scenario.accounts[0]  # the one not connected yet
    authorize = site.settings.authorize_url
    await login(page, site, keys.admin, "/admin/accounts")
    assert await page.get_by_role("heading", name=f"@{third.username}").count() == 0
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.is_navigation_request() else None)
    async with page.expect_navigation(url=f"{site.base}/admin/accounts?connected=*"):
        await page.get_by_role("button", name="Connect Instagram account").click()
    assert any(url.startswith(authorize) for url in seen), seen
    assert any("/api/v1/accounts/callback?code=" in url for url in seen), seen
    assert f"Connected @{third.username}." in (
        await page.get_by_role("status").text_content() or ""
    )
    assert await page.get_by_role("heading", name=f"@{third.username}").is_visible()
    async with site.db.session() as session:
        account = await session.scalar(
            select(InstagramAccount).where(InstagramAccount.username == third.username)
        )
        assert account is not None
        assert account.token_expires_at is not None
    assert page_errors == []

    # The callback URL replayed (history, a leaked link): its state is used up, so the browser
    # gets a page saying so, and nothing more is stored.
    callback = next(url for url in seen if "/api/v1/accounts/callback?code=" in url)
    replayed = await page.goto(callback)
    assert replayed is not None
    assert replayed.status == 400
    assert await page.get_by_role("heading", name="The account was not connected").is_visible()
    assert "already used" in (await page.locator("main").text_content() or "")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await screenshot(page, "oauth-callback-reused-state")
    async with site.db.session() as session:
        same = await session.scalars(
            select(InstagramAccount).where(InstagramAccount.username == third.username)
        )
        assert len(same.all()) == 1


async def test_callback_without_the_console_cookie_answers_json(site: Site) -> None:
    """The API's own flow is unchanged: no console cookie, JSON (here: a bad state)."""
    async with httpx.AsyncClient(base_url=site.base) as http:
        response = await http.get("/api/v1/accounts/callback?code=x&state=1.2.3")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("this OAuth state is unknown")


async def test_sync_now_shows_progress_to_completion(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    account_id = min(site.accounts.values())
    await login(page, site, keys.admin, "/admin/accounts")
    card = page.locator(f"#account-{account_id}")
    await card.get_by_label("Sync").select_option("full")
    async with page.expect_navigation(url=f"{site.base}/admin/jobs/*"):
        await card.get_by_role("button", name="Sync now").click()
    progress = page.locator("[data-job-progress]")
    await progress.and_(page.locator('[data-done="COMPLETED"]')).wait_for(timeout=60_000)
    assert await page.locator("#job-status").text_content() == "COMPLETED"
    seen = int(await page.locator('[data-field="posts_processed"]').text_content() or 0)
    assert seen == 8
    assert await page.locator("progress").evaluate("bar => bar.value === bar.max")
    job_id = int(page.url.rsplit("/", 1)[-1])
    async with site.db.session() as session:
        job = await session.get(SyncJob, job_id)
        assert job is not None
        assert job.status == "COMPLETED"
        assert job.walk == "FULL"
    await page.goto(f"{site.base}/admin/jobs")
    assert await page.locator(f"#job-{job_id}").get_by_text("completed").is_visible()
    assert page_errors == []


async def test_pause_and_resume_auto_sync(page: Page, site: Site, keys: Keys) -> None:
    account_id = min(site.accounts.values())
    await login(page, site, keys.admin, "/admin/accounts")
    card = page.locator(f"#account-{account_id}")
    async with page.expect_navigation():
        await card.get_by_role("button", name="Pause auto sync").click()
    assert await card.get_by_text("paused", exact=True).first.is_visible()
    async with page.expect_navigation():
        await card.get_by_role("button", name="Resume auto sync").click()
    async with site.db.session() as session:
        account = await session.get(InstagramAccount, account_id)
        assert account is not None
        assert account.auto_sync is True
