"""Every console page at phone and desktop width: axe-core finds nothing serious, no page
error, nothing wider than the screen, every image (lazy ones too) loads, and a screenshot of
each for the review."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from instagram_service.models import Feed, SyncJob, WebhookSubscription
from tests.web.admin.conftest import Keys, Site, login
from tests.web.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    describe,
    load_every_image,
    screenshot,
)

PAGES = [
    ("moderation", "/admin/moderation?status=all"),
    ("moderation-pending", "/admin/moderation?status=pending"),
    ("rules", "/admin/rules"),
    ("rule-new", "/admin/rules/new"),
    ("accounts", "/admin/accounts"),
    ("account-delete", "/admin/accounts/{account}/delete"),
    ("jobs", "/admin/jobs"),
    ("job", "/admin/jobs/{job}"),
    ("feeds", "/admin/feeds"),
    ("feed", "/admin/feeds/{feed}"),
    ("categories", "/admin/categories"),
    ("webhooks", "/admin/webhooks"),
    ("webhook", "/admin/webhooks/{subscription}"),
    ("keys", "/admin/keys"),
]


@pytest.mark.parametrize(("width_name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_every_page_is_accessible_and_fits(
    browser: Browser, site: Site, keys: Keys, width_name: str, viewport: dict[str, int]
) -> None:
    async with site.db.session() as session:
        job = await session.scalar(select(SyncJob.id).order_by(SyncJob.id.desc()))
        subscription = await session.scalar(select(WebhookSubscription.id))
        feed = await session.scalar(select(Feed.id).order_by(Feed.id))
        if subscription is None:
            row = WebhookSubscription(
                url="https://cms.example.com/hooks", events=["gallery.changed"], is_active=True,
                consecutive_failures=0, secret_encrypted=b"x",
            )  # fmt: skip
            session.add(row)
            await session.flush()
            subscription = row.id
    values = {
        "account": min(site.accounts.values()), "job": job, "subscription": subscription,
        "feed": feed,
    }  # fmt: skip
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    try:
        await page.goto(f"{site.base}/admin/login")
        assert await axe_violations(page) == []
        await screenshot(page, f"admin-login-{width_name}")
        await login(page, site, keys.admin)
        problems = []
        for name, path in PAGES:
            response = await page.goto(site.base + path.format(**values))
            assert response is not None
            assert response.status == 200, (path, response.status)
            violations = await axe_violations(page)
            if violations:
                problems.append(f"{path}:\n{describe(violations)}")
            overflow = await page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                problems.append(f"{path}: {overflow}px wider than the screen")
            if broken := await load_every_image(page):
                problems.append(f"{path}: images that did not load: {broken[:5]}")
            await screenshot(page, f"admin-{name}-{width_name}")
        assert not problems, "\n".join(problems)
        assert errors == []
    finally:
        await context.close()


async def test_keyboard_reaches_every_control_with_visible_focus(
    browser: Browser, site: Site, keys: Keys
) -> None:
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = await context.new_page()
    try:
        await login(page, site, keys.admin, "/admin/accounts")
        await page.keyboard.press("Tab")
        assert await page.evaluate("() => document.activeElement.textContent") == "Skip to content"
        seen = set()
        for _ in range(40):
            await page.keyboard.press("Tab")
            info = await page.evaluate(
                """() => { const el = document.activeElement; const s = getComputedStyle(el);
                return [el.tagName, el.textContent.trim().slice(0, 40), s.outlineStyle,
                        s.outlineWidth]; }"""
            )
            if info[0] == "BODY":
                break  # past the last control
            assert info[2] != "none", f"no visible focus on {info}"
            seen.add(info[1])
        assert {"Connect Instagram account", "Sync now", "Pause auto sync"} <= seen
    finally:
        await context.close()
