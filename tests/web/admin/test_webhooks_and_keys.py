"""Webhook subscriptions and API keys in the browser; a scoped key sees only its accounts."""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from instagram_service.apikeys.service import find_active_key
from tests.web.admin.conftest import Keys, Site, login
from tests.web.browser import free_port, screenshot, serve
from tests.web.conftest import PageErrors


async def test_a_test_webhook_delivery_appears_in_its_log(
    page: Page, site: Site, keys: Keys, page_errors: PageErrors
) -> None:
    received: list[dict[str, str]] = []

    async def hook(request: Request) -> Response:
        received.append({**request.headers, "body": (await request.body()).decode()})
        return Response(status_code=204)

    async with serve(
        Starlette(routes=[Route("/hook", hook, methods=["POST"])]), port=free_port()
    ) as cms:
        await login(page, site, keys.admin, "/admin/webhooks")
        await page.get_by_label("Receiver URL").fill(f"{cms}/hook")
        async with page.expect_navigation():
            await page.get_by_role("button", name="Create subscription").click()
        await screenshot(page, "admin-webhook-created-desktop")
        secret = await page.locator("#new-secret").text_content()
        assert secret is not None
        assert secret.startswith("whsec_")
        await page.goto(f"{site.base}/admin/webhooks")  # shown once: a later look does not
        assert await page.locator("#new-secret").count() == 0
        await page.get_by_role("link", name=f"{cms}/hook").click()
        async with page.expect_navigation():
            await page.get_by_role("button", name="Send test event").click()
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.1)
        assert received, "the receiver got nothing"
        assert '"type":"webhook.test"' in received[0]["body"]
        assert received[0]["webhook-signature"].startswith("v1,")
        await asyncio.sleep(0.2)  # the delivery's outcome is recorded after the response
        await page.reload()
        row = page.locator("tbody tr").first
        assert await row.locator("[data-status-code]").text_content() == "204"
        assert "succeeded" in (await row.text_content() or "")
        async with page.expect_navigation():
            await row.get_by_role("button", name="Redeliver webhook.test").click()
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.1)
        assert received[1]["webhook-id"] == received[0]["webhook-id"]  # the same event again
    assert page_errors == []


async def test_create_a_scoped_key_shown_once_then_revoke(
    page: Page, site: Site, keys: Keys
) -> None:
    await login(page, site, keys.admin, "/admin/keys")
    await page.get_by_label("Name").fill("client two")
    await page.get_by_label("Scope").select_option("read")
    await page.get_by_label("Only these (an agency's client):").check()
    second = max(site.accounts.values())
    username = next(name for name, i in site.accounts.items() if i == second)
    await page.get_by_label(f"@{username}").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Create key").click()
    await screenshot(page, "admin-key-created-desktop")
    plain = (await page.locator("#new-key-value").text_content() or "").strip()
    assert plain.startswith("igs_")
    async with site.db.session() as session:
        key = await find_active_key(session, plain)
        assert key is not None
        assert key.account_ids == [second]
        assert key.scope == "read"
    async with httpx.AsyncClient(base_url=site.base) as http:
        listed = await http.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plain}"})
        assert [a["id"] for a in listed.json()["items"]] == [second]
        page.once("dialog", lambda dialog: dialog.accept())
        async with page.expect_navigation():
            await page.get_by_role("button", name="Revoke client two").click()
        gone = await http.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plain}"})
        assert gone.status_code == 401


async def test_a_scoped_key_sees_only_its_accounts_everywhere(
    page: Page, site: Site, keys: Keys
) -> None:
    mine = keys.scoped_account
    other = next(i for i in site.accounts.values() if i != mine)
    names = {i: name for name, i in site.accounts.items()}
    await login(page, site, keys.scoped, "/admin/moderation?status=all")
    shown = set(await page.locator(".post .meta").all_text_contents())
    assert shown
    assert all(f"@{names[mine]}" in text for text in shown), shown
    await page.goto(f"{site.base}/admin/accounts")
    assert await page.get_by_role("heading", name=f"@{names[mine]}").is_visible()
    assert await page.get_by_role("heading", name=f"@{names[other]}").count() == 0
    assert await page.get_by_role("button", name="Connect Instagram account").count() == 0
    await page.goto(f"{site.base}/admin/jobs")
    assert f"@{names[other]}" not in (await page.locator("tbody").text_content() or "")
    for path in ("/admin/keys", "/admin/webhooks"):
        response = await page.goto(site.base + path)
        assert response is not None
        assert response.status in (200, 403)
        assert await page.get_by_role("button", name="Create key").count() == 0
    # The same through the API, with the same key.
    headers = {"Authorization": f"Bearer {keys.scoped}"}
    async with httpx.AsyncClient(base_url=site.base, headers=headers) as http:
        accounts = (await http.get("/api/v1/accounts")).json()["items"]
        assert [a["id"] for a in accounts] == [mine]
        posts = (await http.get("/api/v1/posts?limit=100")).json()["items"]
        assert posts
        assert {p["account_id"] for p in posts} == {mine}
        jobs = (await http.get("/api/v1/sync/jobs")).json()["items"]
        assert {j["account_id"] for j in jobs} == {mine}
        status = (await http.get("/api/v1/sync/status")).json()
        assert [a["account_id"] for a in status["accounts"]] == [mine]
        assert (await http.get(f"/api/v1/accounts/{other}")).status_code == 404
        admin = {"Authorization": f"Bearer {keys.admin}"}
        listed = await http.get("/api/v1/posts?limit=1", headers=admin, params={"account": other})
        other_post = listed.json()["items"][0]["id"]
        assert (await http.get(f"/api/v1/posts/{other_post}")).status_code == 404
        patch = await http.patch(f"/api/v1/posts/{other_post}", json={"is_featured": True})
        assert patch.status_code == 404
        trigger = await http.post("/api/v1/sync/trigger", json={"account": str(other)})
        assert trigger.status_code == 404
        assert (await http.get("/api/v1/keys")).status_code == 403
        assert (await http.get("/api/v1/webhook-subscriptions")).status_code == 403
    # And a forged console change on the other account's post is refused too.
    await page.goto(f"{site.base}/admin/moderation")
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = await page.context.request.post(
        f"{site.base}/admin/posts/{other_post}",
        form={"csrf_token": token or "", "action": "reject"},
        headers={"Origin": site.base},
    )
    assert forged.status == 404
