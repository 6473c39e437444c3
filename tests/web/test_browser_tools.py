"""The browser tooling works: chromium drives a served page; axe-core reports real violations."""

from __future__ import annotations

from playwright.async_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.web.browser import axe_violations, screenshot, serve
from tests.web.conftest import PageErrors

GOOD = """<!doctype html><html lang="en"><head><title>ok</title></head><body><main>
<h1>Tools</h1><button id="b" type="button" onclick="this.textContent='clicked'">Click</button>
</main></body></html>"""
BAD = """<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
<img src="/favicon.ico"><button type="button"></button></main></body></html>"""


def pages() -> Starlette:
    async def good(_: Request) -> HTMLResponse:
        return HTMLResponse(GOOD)

    async def bad(_: Request) -> HTMLResponse:
        return HTMLResponse(BAD)

    async def favicon(_: Request) -> Response:
        return Response(status_code=204)

    return Starlette(routes=[Route("/", good), Route("/bad", bad), Route("/favicon.ico", favicon)])


async def test_click_and_axe(page: Page, page_errors: PageErrors) -> None:
    async with serve(pages()) as base:
        await page.goto(base + "/")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        assert await page.text_content("#b") == "clicked"
        assert await axe_violations(page) == []
        await screenshot(page, "tools-good")
        await page.goto(base + "/bad")
        ids = {v["id"] for v in await axe_violations(page)}
        assert {"image-alt", "button-name"} <= ids
    assert page_errors == []
