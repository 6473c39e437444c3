"""The <instagram-gallery> widget in a real browser, embedded on a page of another origin."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.async_api import Page

from tests.api.conftest import Data, Keys, public_ids
from tests.api.test_gallery import gallery_order
from tests.web.browser import DESKTOP, PHONE, axe_violations, describe, screenshot
from tests.web.conftest import PageErrors
from tests.web.widget.conftest import Servers

SHADOW = "document.querySelector('instagram-gallery').shadowRoot"
ALL_LOADED = f"[...{SHADOW}.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth)"
BOXES = f"[...{SHADOW}.querySelectorAll('li')].map(li => li.getBoundingClientRect().toJSON())"
IDS = f"() => [...{SHADOW}.querySelectorAll('.tile')].map(t => Number(t.dataset.id))"
LAYOUTS = ("grid", "masonry", "carousel", "highlight")


def expected(data: Data) -> list[int]:
    return gallery_order([data.posts[i] for i in public_ids(data)])


@pytest.fixture(scope="package")
async def feed(servers: Servers, keys: Keys, data: Data) -> AsyncIterator[dict[str, Any]]:
    body = {
        "slug": "salon",
        "title": "Both studios",
        "account_ids": sorted(data.accounts.values()),
        "display": {"page_size": 6},
    }
    created = await servers.http.post("/api/v1/feeds", json=body, headers=keys.admin)
    assert created.status_code == 201, created.text
    yield created.json()
    await servers.http.delete(f"/api/v1/feeds/{created.json()['id']}", headers=keys.admin)


async def open_widget(page: Page, servers: Servers, **attrs: str) -> list[int]:
    await page.goto(f"{servers.host}/?{urlencode({'feed': 'salon', **attrs})}")
    await page.wait_for_function(f"() => {SHADOW}?.querySelector('.tile, .error')")
    ids: list[int] = await page.evaluate(IDS)
    return ids


async def load_all(page: Page) -> list[int]:
    more = page.locator("instagram-gallery .more")
    while await more.count():
        before = len(await page.evaluate(IDS))
        await more.click()
        await page.wait_for_function(f"n => ({IDS})().length > n", arg=before)
    ids: list[int] = await page.evaluate(IDS)
    return ids


async def every_image_loaded(page: Page) -> list[dict[str, Any]]:
    """Scrolls each image into view (lazy ones load then) and returns what each one shows."""
    images = page.locator("instagram-gallery .tile img")
    for index in range(await images.count()):
        await images.nth(index).scroll_into_view_if_needed()
    await page.wait_for_function(f"() => {ALL_LOADED}")
    found: list[dict[str, Any]] = await page.evaluate(
        f"""() => [...{SHADOW}.querySelectorAll('.tile img')].map(i => ({{
            alt: i.alt, width: i.getAttribute('width'), height: i.getAttribute('height'),
            natural: i.naturalWidth, loading: i.loading, src: i.currentSrc,
            shown: i.getBoundingClientRect().height > 0, sizes: i.sizes,
            sources: [...i.parentElement.querySelectorAll('source')].map(s => s.type)
        }}))"""
    )
    return found


async def test_widget_shows_the_feed_cross_origin(
    page: Page, page_errors: PageErrors, servers: Servers, data: Data, feed: dict[str, Any]
) -> None:
    first = await open_widget(page, servers)
    assert first == expected(data)[:6]
    ids = await load_all(page)
    assert len(ids) == len(set(ids))  # never twice
    assert ids == expected(data)
    assert not set(ids) & data.hidden
    images = await every_image_loaded(page)
    assert all(i["alt"] and i["width"] and i["height"] and i["natural"] > 0 for i in images)
    assert all(i["shown"] and i["sizes"].endswith("px") for i in images)
    assert all(i["src"].startswith(servers.api + "/images/") for i in images)  # our storage
    assert all("image/webp" in i["sources"] for i in images)
    assert [i["loading"] for i in images[:4]] == ["eager"] * 4  # the first row, desktop: 4
    assert {i["loading"] for i in images[4:]} == {"lazy"}
    header = page.locator("instagram-gallery header")
    assert await header.count() == 2
    follow = page.locator("instagram-gallery .follow").first
    assert (await follow.get_attribute("href") or "").startswith("https://www.instagram.com/")
    await screenshot(page, "widget-desktop")
    assert page_errors == []


async def test_lightbox_by_keyboard(
    page: Page, page_errors: PageErrors, servers: Servers, data: Data, feed: dict[str, Any]
) -> None:
    await open_widget(page, servers, limit="24")
    active = f"() => {SHADOW}.activeElement?.className"
    for _ in range(6):  # past the two follow links to the first tile
        await page.keyboard.press("Tab")
        if await page.evaluate(active) == "tile":
            break
    assert await page.evaluate(active) == "tile"
    first_id = await page.evaluate(f"() => Number({SHADOW}.activeElement.dataset.id)")
    await page.keyboard.press("Enter")
    dialog = page.locator("instagram-gallery dialog")
    assert await dialog.get_attribute("open") is not None
    assert await page.evaluate(active) == "close"
    for _ in range(8):  # focus stays in the dialog
        await page.keyboard.press("Tab")
        inside = f"() => {SHADOW}.querySelector('dialog').contains({SHADOW}.activeElement)"
        assert await page.evaluate(inside)
    await screenshot(page, "widget-lightbox", full_page=False)
    await page.keyboard.press("Escape")
    assert await dialog.get_attribute("open") is None
    assert await page.evaluate(f"() => Number({SHADOW}.activeElement.dataset.id)") == first_id

    # A carousel: the arrows walk its children, then on to the next post.
    carousel = data.posts[data.carousel]
    await page.locator(f"instagram-gallery .tile[data-id='{carousel.id}']").focus()
    await page.keyboard.press("Enter")
    stage_src = f"() => {SHADOW}.querySelector('.stage img').getAttribute('src')"
    position = f"() => {SHADOW}.querySelector('.pos').textContent"
    count = len(carousel.children)
    assert f"1 of {count}" in await page.evaluate(position)
    assert f"/images/{carousel.id}/0/" in await page.evaluate(stage_src)
    await page.keyboard.press("ArrowRight")
    assert f"2 of {count}" in await page.evaluate(position)
    assert f"/images/{carousel.id}/1/" in await page.evaluate(stage_src)
    await page.keyboard.press("ArrowLeft")
    assert f"1 of {count}" in await page.evaluate(position)
    await page.keyboard.press("Escape")
    assert page_errors == []


def overlaps(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    bad = []
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        if (
            a["x"] + a["width"] - 0.5 > b["x"]
            and b["x"] + b["width"] - 0.5 > a["x"]
            and a["y"] + a["height"] - 0.5 > b["y"]
            and b["y"] + b["height"] - 0.5 > a["y"]
        ):
            bad.append((i, j))
    return bad


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("hostile", [False, True], ids=["plain-css", "hostile-css"])
async def test_layouts_at_phone_and_desktop(
    page: Page,
    page_errors: PageErrors,
    servers: Servers,
    feed: dict[str, Any],
    layout: str,
    hostile: bool,
) -> None:
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]
        attrs = {"layout": layout, "limit": "12", **({"hostile": "1"} if hostile else {})}
        await open_widget(page, servers, **attrs)
        await every_image_loaded(page)
        boxes = await page.evaluate(f"() => {BOXES}")
        assert len(boxes) == 12
        assert all(b["width"] > 40 and b["height"] > 40 for b in boxes), boxes
        assert overlaps(boxes) == [], (layout, name)
        host_width = await page.evaluate(
            "() => document.querySelector('instagram-gallery').getBoundingClientRect().width"
        )
        if layout != "carousel":  # a carousel scrolls sideways inside itself
            assert max(b["x"] + b["width"] for b in boxes) <= host_width + 20
        size = await page.evaluate(
            f"() => getComputedStyle({SHADOW}.querySelector('.more')).fontSize"
        )
        assert size != "40px"  # the site's `* {{ font-size }}` does not reach inside
        suffix = "-hostile" if hostile else ""
        await screenshot(page, f"widget-{layout}-{name}{suffix}")
    assert page_errors == []


async def test_accessibility_of_widget_and_embed(
    page: Page, page_errors: PageErrors, servers: Servers, feed: dict[str, Any]
) -> None:
    await open_widget(page, servers)
    await every_image_loaded(page)
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await page.locator("instagram-gallery .tile").first.click()
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    for viewport in (PHONE, DESKTOP):
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]
        await page.goto(f"{servers.api}/embed/salon")
        violations = await axe_violations(page)
        assert violations == [], describe(violations)
        await screenshot(page, f"embed-{viewport['width']}")
    assert page_errors == []


async def test_embed_page_has_the_same_images_in_the_same_order(
    page: Page, servers: Servers, data: Data, feed: dict[str, Any]
) -> None:
    await page.goto(f"{servers.api}/embed/salon")
    sources = await page.evaluate(
        "() => [...document.querySelectorAll('main li img')].map(i => i.getAttribute('src'))"
    )
    order = expected(data)[:24]
    assert [int(src.split("/images/")[1].split("/")[0]) for src in sources] == order
    await page.wait_for_function("() => [...document.images].every(i => i.complete)")
    alts = await page.evaluate(
        "() => [...document.querySelectorAll('main li img')].map(i => i.alt)"
    )
    assert all(alts)


async def test_admin_changes_show_after_a_reload(
    page: Page, servers: Servers, data: Data, keys: Keys, feed: dict[str, Any]
) -> None:
    order = expected(data)
    last = order[-1]
    pending = data.pending
    post = data.posts[pending]
    try:
        featured = await servers.http.patch(
            f"/api/v1/posts/{last}",
            json={"is_featured": True, "display_order": -50},
            headers=keys.admin,
        )
        assert featured.status_code == 200, featured.text
        approved = await servers.http.patch(
            f"/api/v1/posts/{pending}", json={"is_approved": True}, headers=keys.admin
        )
        assert approved.status_code == 200, approved.text
        ids = await open_widget(page, servers, limit="100")
        assert ids[0] == last  # featured and ordered first
        assert pending in ids  # approved: public now
    finally:
        await servers.http.patch(
            f"/api/v1/posts/{last}",
            json={"is_featured": data.posts[last].is_featured, "display_order": 0},
            headers=keys.admin,
        )
        await servers.http.patch(
            f"/api/v1/posts/{pending}", json={"is_approved": post.is_approved}, headers=keys.admin
        )
    ids = await open_widget(page, servers, limit="100")
    assert ids == order


async def test_revalidates_when_visible_again_and_speaks_french(
    page: Page, page_errors: PageErrors, servers: Servers, feed: dict[str, Any]
) -> None:
    await open_widget(page, servers, lang="fr")
    assert await page.locator("instagram-gallery .more").text_content() == "Voir plus"
    before = len(servers.seen.requests)
    await page.evaluate(
        """() => {
            const visible = {value: 'visible', configurable: true};
            Object.defineProperty(document, 'visibilityState', visible);
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    await page.wait_for_function(
        "n => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/api/v1/feeds/')).length > n",
        arg=1,
    )
    feeds = [r for r in servers.seen.requests[before:] if r[1] == "/api/v1/feeds/salon"]
    assert feeds, servers.seen.requests[before:]
    assert feeds[-1][2:] == (304, True)  # revalidated with If-None-Match: nothing to send
    assert page_errors == []
