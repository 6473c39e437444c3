"""Logging in and out, cookie flags, expiry, read-only keys, and cross-site requests."""

from __future__ import annotations

import time
from unittest import mock

from itsdangerous import URLSafeTimedSerializer
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import select

from instagram_service.models import InstagramPost
from instagram_service.web.admin.session import COOKIE, SALT
from tests.web.admin.conftest import SESSION_SECRET, Keys, Site, login
from tests.web.browser import free_port, serve
from tests.web.conftest import PageErrors


async def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    return next((c for c in await context.cookies() if c["name"] == COOKIE), None)  # type: ignore[misc]


async def test_admin_key_logs_in_with_safe_cookie_flags(
    page: Page, context: BrowserContext, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    await login(page, site, keys.admin)
    assert page.url.startswith(f"{site.base}/admin/moderation")
    assert await page.get_by_role("heading", name="Moderation").is_visible()
    cookie = await session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on loopback; https sets it (next test)
    lifetime = float(cookie["expires"]) - time.time()  # type: ignore[arg-type]
    assert 11.9 * 3600 < lifetime <= 12 * 3600
    assert keys.admin not in str(cookie["value"])  # the key itself never leaves the server
    assert not await page.evaluate("() => document.cookie.includes('igs_admin')")
    assert page_errors == []


async def test_https_sets_the_secure_flag(site: Site) -> None:
    import httpx

    transport = httpx.ASGITransport(app=site.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as http:
        response = await http.get("/admin/login")
    header = response.headers["set-cookie"]
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=lax" in header


async def test_wrong_key_is_refused(page: Page, context: BrowserContext, site: Site) -> None:
    await login(page, site, "igs_not-a-real-key")
    assert "/admin/login" in page.url
    assert (
        await page.get_by_role("alert").text_content()
        == "That key is not valid (wrong, or revoked)."
    )
    response = await page.goto(f"{site.base}/admin/moderation")
    assert response is not None
    assert "/admin/login" in response.url


async def test_read_key_looks_but_cannot_change(
    page: Page, context: BrowserContext, site: Site, keys: Keys
) -> None:
    await login(page, site, keys.read)
    await page.goto(f"{site.base}/admin/moderation?status=all")
    assert await page.locator(".post").count() > 0
    assert await page.get_by_text("Read-only key").is_visible()
    for name in ("Approve", "Reject", "Feature", "Apply to selected", "Save alt text"):
        assert await page.get_by_role("button", name=name).count() == 0
    await page.goto(f"{site.base}/admin/accounts")
    assert await page.get_by_role("button", name="Sync now").count() == 0
    assert await page.get_by_role("button", name="Connect Instagram account").count() == 0
    # A forged change with the session's own valid token: the server refuses it anyway.
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    post_id = await page_first_post_id(site)
    forged = await context.request.post(
        f"{site.base}/admin/posts/{post_id}",
        form={"csrf_token": token or "", "action": "reject"},
        headers={"Origin": site.base},
    )
    assert forged.status == 403
    assert "read scope" in await forged.text()
    async with site.db.session() as session:
        post = await session.get(InstagramPost, post_id)
        assert post is not None
        assert post.is_approved is True


async def page_first_post_id(site: Site) -> int:
    async with site.db.session() as session:
        post_id = await session.scalar(
            select(InstagramPost.id).where(InstagramPost.is_approved.is_(True)).limit(1)
        )
    assert post_id is not None
    return post_id


EVIL = """<!doctype html><html lang="en"><head><title>win a prize</title></head><body>
<form id="f" method="post" action="{target}">
<input name="csrf_token" value="{token}"><input name="action" value="reject">
</form><script>document.getElementById('f').submit()</script></body></html>"""


async def test_cross_site_form_post_is_refused(
    page: Page, context: BrowserContext, site: Site, keys: Keys
) -> None:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    await login(page, site, keys.admin)
    # Even with the real token (say it leaked), another origin cannot post a change.
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    post_id = await page_first_post_id(site)
    html = EVIL.format(target=f"{site.base}/admin/posts/{post_id}", token=token)

    async def evil(_request: object) -> HTMLResponse:
        return HTMLResponse(html)

    async with serve(Starlette(routes=[Route("/", evil)]), port=free_port()) as other:
        async with page.expect_response(f"{site.base}/admin/posts/{post_id}") as answer:
            await page.goto(other + "/")
        assert (await answer.value).status == 403
    assert "cross-site request refused" in (await page.content())
    async with site.db.session() as session:
        post = await session.get(InstagramPost, post_id)
        assert post is not None
        assert post.is_approved is True
    # Without the token, from the console's own origin: refused as well.
    no_token = await context.request.post(
        f"{site.base}/admin/posts/{post_id}", form={"action": "reject"},
        headers={"Origin": site.base},
    )  # fmt: skip
    assert no_token.status == 403


async def test_logout_ends_the_session(
    page: Page, context: BrowserContext, site: Site, keys: Keys
) -> None:
    await login(page, site, keys.admin)
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(f"{site.base}/admin/login")
    # The login page gives the browser an anonymous session (a CSRF token, no key).
    cookie = await session_cookie(context)
    if cookie is not None:
        data = URLSafeTimedSerializer(SESSION_SECRET, salt=SALT).loads(str(cookie["value"]))
        assert data["k"] is None
    await page.goto(f"{site.base}/admin/accounts")
    assert "/admin/login?next=/admin/accounts" in page.url


async def test_logout_ends_copies_of_the_cookie_too(
    browser: Browser, page: Page, context: BrowserContext, site: Site, keys: Keys
) -> None:
    """A cookie copied before logging out (another tab's, a stolen one) stops working: the
    logout ends the key's console sessions server-side, not only this browser's cookie."""
    await login(page, site, keys.read)
    copied = await session_cookie(context)
    assert copied is not None
    other = await browser.new_context()
    try:
        await other.add_cookies([{"name": COOKIE, "value": str(copied["value"]), "url": site.base}])
        before = await other.request.get(f"{site.base}/admin/moderation", max_redirects=0)
        assert before.status == 200
        await page.get_by_role("button", name="Log out").click()
        await page.wait_for_url(f"{site.base}/admin/login")
        after = await other.request.get(f"{site.base}/admin/moderation", max_redirects=0)
        assert after.status == 303
        assert after.headers["location"].startswith("/admin/login?next=/admin/moderation")
    finally:
        await other.close()
    await login(page, site, keys.read)  # signing in again works at once
    assert await page.get_by_role("heading", name="Moderation").is_visible()


async def test_expired_session_is_refused(context: BrowserContext, site: Site, keys: Keys) -> None:
    from instagram_service.apikeys.service import find_active_key

    async with site.db.session() as session:
        key = await find_active_key(session, keys.admin)
        assert key is not None
    serializer = URLSafeTimedSerializer(SESSION_SECRET, salt=SALT)
    thirteen_hours_ago = time.time() - 13 * 3600
    with mock.patch("itsdangerous.timed.time.time", return_value=thirteen_hours_ago):
        stale = serializer.dumps({"c": "token", "k": key.id, "s": None, "t": thirteen_hours_ago})
    fresh = serializer.dumps({"c": "token", "k": key.id, "s": None, "t": time.time()})
    for value, allowed in ((stale, False), (fresh, True)):
        await context.clear_cookies()
        await context.add_cookies([{"name": COOKIE, "value": value, "url": site.base}])
        response = await context.request.get(f"{site.base}/admin/moderation", max_redirects=0)
        assert (response.status == 200) is allowed, response.status
