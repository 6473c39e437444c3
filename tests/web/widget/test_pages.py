"""The landing page, the widget script's two names, and the API docs without internet."""

from __future__ import annotations

import gzip
import re
from typing import Any

from playwright.async_api import Page, Route

from tests.web.browser import PHONE, axe_violations, describe, screenshot
from tests.web.conftest import PageErrors
from tests.web.widget.conftest import Servers


async def only_loopback(page: Page, seen: list[str]) -> None:
    """Refuse every request that leaves the machine (as with no internet), noting it."""

    async def route(r: Route) -> None:
        if re.match(r"^https?://(127\.0\.0\.1|localhost)[:/]", r.request.url):
            await r.continue_()
        else:
            seen.append(r.request.url)
            await r.abort()

    await page.route("**/*", route)


async def test_landing_page_shows_the_widget_and_snippets(
    page: Page, page_errors: PageErrors, servers: Servers, data: Any
) -> None:
    outside: list[str] = []
    await only_loopback(page, outside)
    for viewport in (PHONE, {"width": 1280, "height": 900}):
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]
        await page.goto(f"{servers.api}/")
        await page.wait_for_function(
            "() => document.querySelector('instagram-gallery').shadowRoot?.querySelector('.tile')"
        )
        snippets = await page.locator("pre code").all_text_contents()
        assert len(snippets) == len(data.accounts)  # one default feed per account
        assert all(
            '<script type="module" src="' in s and "<instagram-gallery feed=" in s for s in snippets
        )
        hrefs = await page.eval_on_selector_all(
            "a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert f"{servers.api}/admin" in hrefs
        assert f"{servers.api}/docs" in hrefs
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
        await screenshot(page, f"landing-{viewport['width']}")
    assert outside == []
    assert page_errors == []


async def test_api_docs_work_offline(page: Page, servers: Servers) -> None:
    outside: list[str] = []
    await only_loopback(page, outside)
    await page.goto(f"{servers.api}/docs")
    await page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert await page.locator(".swagger-ui .opblock").count() > 30
    assert outside == []  # Swagger UI's assets came from the installed package


async def test_widget_script_names_and_caching(servers: Servers) -> None:
    short = await servers.http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert short.headers["content-type"].startswith("text/javascript")
    assert short.headers["cache-control"].startswith("public, max-age=300")
    assert "customElements.define" in short.text
    landing = (await servers.http.get("/")).text
    name = re.search(r'src="[^"]*/(widget\.[0-9a-f]{12}\.js)"', landing)
    assert name is not None
    hashed = await servers.http.get(f"/{name.group(1)}")
    assert hashed.content == short.content
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await servers.http.get("/widget.000000000000.js")).status_code == 404
    assert len(gzip.compress(short.content, 9)) <= 12 * 1024  # the budget
    again = await servers.http.get("/widget.js", headers={"If-None-Match": short.headers["etag"]})
    assert again.status_code == 304
