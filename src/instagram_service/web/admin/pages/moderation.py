"""Moderation: the posts with filters, decisions one by one or in bulk, order, undo."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from instagram_service.accounts import service as accounts
from instagram_service.categories import service as categories
from instagram_service.deps import IdPath, SessionDep, SettingsDep
from instagram_service.errors import BadRequest
from instagram_service.models import InstagramAccount, InstagramPost, ModerationStatus
from instagram_service.moderation import ordering, undo
from instagram_service.moderation import service as moderation
from instagram_service.moderation.schemas import PostPatch
from instagram_service.posts import service as posts
from instagram_service.posts.changes import public_state, record_admin_changes
from instagram_service.posts.schemas import admin_post
from instagram_service.settings import Settings
from instagram_service.web.admin.console import Console, Editor, Viewer
from instagram_service.web.admin.render import back, page, safe_next
from instagram_service.web.admin.session import sign, unsign

router = APIRouter()
PAGE_SIZE = 24
UNDO_COOKIE = "igs_undo"
UNDO_SALT = "igs-admin-undo"
STATUSES = ("all", "pending", "approved", "rejected", "featured", "deleted")

# One post's actions: (PostPatch fields, undo label); "category" and "alt" carry a value.
ACTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "approve": ({"is_approved": True}, "approved"),
    "reject": ({"is_approved": False}, "rejected"),
    "pending": ({"is_approved": None}, "set back to pending"),
    "feature": ({"is_featured": True}, "featured"),
    "unfeature": ({"is_featured": False}, "unfeatured"),
}


async def scoped_accounts(db: SessionDep, console: Console) -> list[InstagramAccount]:
    rows = await accounts.list_accounts(db)
    allowed = console.account_ids
    return [a for a in rows if allowed is None or a.id in allowed]


@router.get("/admin/moderation")
async def moderation_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    console: Viewer,
    status: str = "pending",
    account: str = "",
    category: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    status = status if status in STATUSES else "all"
    found, total = await posts.admin_posts(
        db,
        status=ModerationStatus(status) if status in set(ModerationStatus) else None,
        featured=True if status == "featured" else None,
        deleted=status == "deleted",
        account=account or None,
        category=category or None,
        search=q[:200] or None,
        limit=PAGE_SIZE,
        offset=max(0, min(offset, 100_000)),
        account_ids=console.account_ids,
        gallery_order=True,
    )
    snapshot = undo.Snapshot.load(unsign(settings, UNDO_SALT, request.cookies.get(UNDO_COOKIE)))
    params = {"status": status, "account": account, "category": category, "q": q}
    return page(
        request,
        "moderation.html",
        console,
        section="moderation",
        title="Moderation",
        posts=[admin_post(p, settings.public_base_url) for p in found],
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        params=params,
        statuses=STATUSES,
        accounts=await scoped_accounts(db, console),
        categories=await categories.names(db),
        undo=snapshot,
        here=str(request.url.path) + "?" + request.url.query,
    )


def _with_undo(response: Response, settings: Settings, snapshot: undo.Snapshot | None) -> Response:
    if snapshot is None:
        response.delete_cookie(UNDO_COOKIE, path="/admin")
    else:
        response.set_cookie(
            UNDO_COOKIE, sign(settings, UNDO_SALT, snapshot.dump()), path="/admin",
            httponly=True, samesite="strict", max_age=3600,
        )  # fmt: skip
    return response


async def _scoped_posts(db: SessionDep, ids: list[int], console: Console) -> list[InstagramPost]:
    query = select(InstagramPost).where(InstagramPost.id.in_(ids))
    if console.account_ids is not None:
        query = query.where(InstagramPost.account_id.in_(console.account_ids))
    return list(await db.scalars(query))


async def _decide(
    db: SessionDep,
    settings: Settings,
    console: Console,
    ids: list[int],
    action: str,
    value: str,
) -> undo.Snapshot | None:
    """Apply one action to posts (all in scope, or 404); returns what undo needs."""
    if action == "category":
        changes: dict[str, Any] = {"gallery_category": value}
        label = f"category set to {value}"
    elif action == "alt":
        changes, label = {"alt_text": value.strip() or None}, "alt text edited"
    elif action in ACTIONS:
        changes, label = ACTIONS[action]
    else:
        raise BadRequest(f"unknown action {action!r}")
    patch = PostPatch(**changes)
    field = next(iter(changes))
    found = await _scoped_posts(db, ids, console)
    count = f"{len(ids)} posts" if len(ids) > 1 else f"post {ids[0]}"
    snapshot = undo.take(f"{count} {label}", field, found)
    before = await public_state(db, ids)
    for post_id in ids:
        await moderation.update_post(db, post_id, patch, console.account_ids)
    await record_admin_changes(db, before, base_url=settings.public_base_url)
    return snapshot


@router.post("/admin/posts/bulk")
async def bulk(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    console: Editor,
) -> Response:
    form = await request.form()
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()][:500]
    action = str(form.get("action", ""))
    next_path = str(form.get("next", ""))
    if not ids:
        return back(next_path, "Select at least one post first.")
    if action not in ACTIONS:
        raise BadRequest(f"unknown bulk action {action!r}")
    snapshot = await _decide(db, settings, console, ids, action, "")
    return _with_undo(
        back(next_path, f"{len(ids)} posts {ACTIONS[action][1]}."), settings, snapshot
    )


@router.post("/admin/posts/reorder")
async def reorder(
    db: SessionDep,
    settings: SettingsDep,
    console: Editor,
    ids: Annotated[list[int], Body(embed=True, max_length=500)],
) -> Response:
    """The drag-and-drop script's call: these posts, in this order."""
    changed = await ordering.place(db, ids, console.account_ids)
    await record_admin_changes(
        db, await public_state(db, list(changed)), base_url=settings.public_base_url
    )
    snapshot = undo.of_orders("posts reordered", changed)
    return _with_undo(JSONResponse({"changed": len(changed)}), settings, snapshot)


@router.post("/admin/posts/{post_id}")
async def decide(
    post_id: IdPath,
    db: SessionDep,
    settings: SettingsDep,
    console: Editor,
    action: str = Form(max_length=20),
    value: str = Form("", max_length=1000),
    next: str = Form("", max_length=1000),
) -> Response:
    next_path = safe_next(next) + f"#post-{post_id}"
    if action in ("up", "down"):
        direction: Literal["up", "down"] = "up" if action == "up" else "down"
        changed = await ordering.move(db, post_id, direction, console.account_ids)
        # Order never changes what is public: the state now is the state before.
        await record_admin_changes(
            db, await public_state(db, list(changed)), base_url=settings.public_base_url
        )
        snapshot = undo.of_orders(f"post {post_id} moved {action}", changed)
        return _with_undo(back(next_path, f"Post {post_id} moved {action}."), settings, snapshot)
    if action == "reset":
        before = await public_state(db, [post_id])
        await moderation.reset_moderation(db, settings, post_id, console.account_ids)
        await record_admin_changes(db, before, base_url=settings.public_base_url)
        return _with_undo(
            back(next_path, f"Post {post_id}: back to the rules' decisions."), settings, None
        )
    snapshot = await _decide(db, settings, console, [post_id], action, value)
    label = snapshot.label if snapshot else f"post {post_id} changed"
    return _with_undo(back(next_path, label[0].upper() + label[1:] + "."), settings, snapshot)


@router.post("/admin/undo")
async def undo_last(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    console: Editor,
    next: str = Form("", max_length=1000),
) -> Response:
    snapshot = undo.Snapshot.load(unsign(settings, UNDO_SALT, request.cookies.get(UNDO_COOKIE)))
    if snapshot is None:
        return back(next, "Nothing to undo.")
    ids = [row[0] for row in snapshot.rows]
    before = await public_state(db, ids)
    await undo.restore(db, settings, snapshot, console.account_ids)
    await record_admin_changes(db, before, base_url=settings.public_base_url)
    return _with_undo(back(next, f"Undone: {snapshot.label}."), settings, None)
