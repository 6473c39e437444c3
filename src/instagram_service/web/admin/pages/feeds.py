"""Feeds: create and edit named galleries, with a live preview of the widget and the snippet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from instagram_service.categories import service as categories
from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.errors import Forbidden, NotFound
from instagram_service.feeds import service as feeds
from instagram_service.feeds.schemas import Display, FeedCreate
from instagram_service.models import Feed
from instagram_service.posts.http import public_base
from instagram_service.web.admin.console import Console, Editor, Viewer
from instagram_service.web.admin.pages.moderation import scoped_accounts
from instagram_service.web.admin.render import back, page
from instagram_service.web.assets import widget

router = APIRouter()
FLAGS = ("captions", "counts", "header", "lightbox")


def in_scope(console: Console, feed: Feed) -> bool:
    allowed = console.account_ids
    return allowed is None or set(feed.account_ids or ()) <= set(allowed)


async def _feed(db: SessionDep, console: Console, feed_id: int) -> Feed:
    feed = await feeds.get_feed(db, feed_id)
    if not in_scope(console, feed):
        raise NotFound(f"feed {feed_id} not found")
    return feed


def parse(form: Any, console: Console) -> tuple[FeedCreate | None, str | None]:
    accounts = [int(v) for v in form.getlist("account_ids") if str(v).isdigit()]
    if console.account_ids is not None and not set(accounts) <= set(console.account_ids):
        raise Forbidden("this key may not use those accounts")
    display = {
        "layout": form.get("layout") or "grid",
        "columns": {n: form.get(f"columns_{n}") or d for n, d in (("phone", 2), ("tablet", 3),
                                                                  ("desktop", 4))},
        "gap": form.get("gap") or 8,
        "page_size": form.get("page_size") or 12,
        **{flag: form.get(flag) == "on" for flag in FLAGS},
    }  # fmt: skip
    origins = [o.strip() for o in str(form.get("allowed_origins", "")).split() if o.strip()]
    try:
        return FeedCreate(
            slug=str(form.get("slug", "")).strip(),
            title=str(form.get("title", "")).strip(),
            description=str(form.get("description", "")).strip() or None,
            account_ids=accounts,
            categories=[str(c) for c in form.getlist("categories")],
            featured_only=form.get("featured_only") == "on",
            max_posts=form.get("max_posts") or None,
            ordering=form.get("ordering") or "curated",
            display=display,
            allowed_origins=origins,
        ), None
    except ValidationError as exc:
        return None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


async def _form(
    request: Request, db: SessionDep, settings: SettingsDep, console: Console,
    feed: Feed | None, values: dict[str, Any], **extra: Any,
) -> Response:  # fmt: skip
    base = public_base(request, settings)
    _body, script = widget()
    return page(
        request, "feed_form.html", console, section="feeds",
        title=f"Feed {feed.slug}" if feed else "New feed", feed=feed, values=values,
        accounts=await scoped_accounts(db, console), categories=await categories.names(db),
        script=f"{base}/{script}", script_short=f"{base}/widget.js", base=base, **extra,
    )  # fmt: skip


def _values(feed: Feed) -> dict[str, Any]:
    return {
        "slug": feed.slug, "title": feed.title, "description": feed.description or "",
        "account_ids": feed.account_ids, "categories": feed.categories,
        "featured_only": feed.featured_only, "max_posts": feed.max_posts or "",
        "ordering": feed.ordering, "display": feed.display,
        "allowed_origins": " ".join(feed.allowed_origins or ()),
    }  # fmt: skip


@router.get("/admin/feeds")
async def feeds_page(request: Request, db: SessionDep, console: Viewer) -> Response:
    rows = [f for f in await feeds.list_feeds(db) if in_scope(console, f)]
    return page(request, "feeds.html", console, section="feeds", title="Feeds", feeds=rows)


@router.get("/admin/feeds/new")
async def new_feed(
    request: Request, db: SessionDep, settings: SettingsDep, console: Viewer
) -> Response:
    values = {"display": Display().model_dump(), "account_ids": [], "categories": [],
              "ordering": "curated"}  # fmt: skip
    return await _form(request, db, settings, console, None, values)


@router.get("/admin/feeds/{feed_id}")
async def edit_feed(
    request: Request, feed_id: IdPath, db: SessionDep, settings: SettingsDep, console: Viewer
) -> Response:
    feed = await _feed(db, console, feed_id)
    return await _form(request, db, settings, console, feed, _values(feed))


async def _save(
    request: Request, db: SessionDep, settings: SettingsDep, console: Console, feed: Feed | None
) -> Response:
    form = await request.form()
    body, problems = parse(form, console)
    if body is None:
        values = {**(_values(feed) if feed else {}), "display": {}, "account_ids": [],
                  "categories": [], "slug": form.get("slug", ""),
                  "title": form.get("title", "")}  # fmt: skip
        return await _form(request, db, settings, console, feed, values, error=problems,
                           status_code=422)  # fmt: skip
    if feed is None:
        saved = await feeds.create_feed(db, **body.model_dump())
    else:
        saved = await feeds.update_feed(db, feed.id, body.model_dump())
    return back(f"/admin/feeds/{saved.id}", f"Feed {saved.slug!r} saved.")


@router.post("/admin/feeds")
async def create(
    request: Request, db: SessionDep, settings: SettingsDep, console: Editor
) -> Response:
    return await _save(request, db, settings, console, None)


@router.post("/admin/feeds/{feed_id}")
async def update(
    request: Request, feed_id: IdPath, db: SessionDep, settings: SettingsDep, console: Editor
) -> Response:
    return await _save(request, db, settings, console, await _feed(db, console, feed_id))


@router.post("/admin/feeds/{feed_id}/delete")
async def delete(feed_id: IdPath, db: SessionDep, console: Editor) -> Response:
    feed = await _feed(db, console, feed_id)
    slug = feed.slug
    await feeds.delete_feed(db, feed.id)
    return back("/admin/feeds", f"Feed {slug!r} deleted.")
