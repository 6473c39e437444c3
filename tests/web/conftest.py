"""Browser fixtures: one chromium per test session, a fresh context and page per test.

The page fixture collects console errors and page errors into `page_errors`, for a test to assert.
Browser tests skip only with the reason printed (tools missing); under CI=true they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, missing_tools


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    reason = missing_tools()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    yield ctx
    await ctx.close()


class PageErrors(list[str]):
    """Console errors and uncaught exceptions seen by a page, in order."""


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
async def page(context: BrowserContext, page_errors: PageErrors) -> AsyncIterator[Page]:
    tab = await context.new_page()
    tab.on("console", lambda msg: page_errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
    yield tab
    await tab.close()
