"""Rules (content filters): list, create, edit, delete, with a dry-run preview, then apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from instagram_service.categories import service as categories
from instagram_service.db import after_commit
from instagram_service.deps import DatabaseDep, IdPath, SessionDep, SettingsDep
from instagram_service.models import ContentFilter
from instagram_service.moderation import service as moderation
from instagram_service.moderation.preview import preview_rule
from instagram_service.moderation.rerun import rerun_moderation
from instagram_service.moderation.schemas import FilterCreate, FilterUpdate
from instagram_service.web.admin.console import Console, GlobalEditor, GlobalViewer, Viewer
from instagram_service.web.admin.render import back, page

router = APIRouter()
LISTS = ("blacklist_hashtags", "whitelist_hashtags", "blacklist_keywords", "keywords")
FLAGS = ("is_active", "auto_approve", "auto_feature", "auto_categorize")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def parse(form: FormData) -> tuple[dict[str, Any], FilterCreate | None, str | None]:
    """The form's values (to show again) and the validated rule, or why it is invalid."""
    raw: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in (
        "name", "description", "priority", "min_likes", "min_engagement_rate", "category",
        *LISTS)}  # fmt: skip
    raw.update({name: form.get(name) == "on" for name in FLAGS})
    data: dict[str, Any] = {name: raw[name] for name in FLAGS}
    data.update({name: _split(raw[name]) for name in LISTS})
    data["name"] = raw["name"]
    data["description"] = raw["description"] or None
    data["priority"] = raw["priority"] or 100
    data["min_likes"] = raw["min_likes"] or None
    data["min_engagement_rate"] = raw["min_engagement_rate"] or None
    data["category"] = raw["category"] or None
    try:
        return raw, FilterCreate(**data), None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}" for e in exc.errors()
        )
        return raw, None, problems


def _values(row: ContentFilter) -> dict[str, Any]:
    raw: dict[str, Any] = {name: getattr(row, name) for name in (*FLAGS, "name", "priority")}
    raw.update({name: ", ".join(getattr(row, name) or ()) for name in LISTS})
    raw["description"] = row.description or ""
    raw["min_likes"] = "" if row.min_likes is None else row.min_likes
    raw["min_engagement_rate"] = "" if row.min_engagement_rate is None else row.min_engagement_rate
    raw["category"] = row.category or ""
    return raw


@router.get("/admin/rules")
async def rules_page(request: Request, db: SessionDep, console: Viewer) -> Response:
    rows = await moderation.list_filters(db)
    return page(request, "rules.html", console, section="rules", title="Rules", rules=rows)


async def _form(
    request: Request, db: SessionDep, console: Console, rule_id: int | None, **extra: Any
) -> Response:
    return page(
        request, "rule_form.html", console, section="rules",
        title="Edit rule" if rule_id else "New rule", rule_id=rule_id,
        categories=await categories.names(db), **extra,
    )  # fmt: skip


@router.get("/admin/rules/new")
async def new_rule(request: Request, db: SessionDep, console: GlobalViewer) -> Response:
    defaults = {"is_active": True, "priority": 100, **dict.fromkeys(LISTS, "")}
    return await _form(request, db, console, None, values=defaults)


@router.get("/admin/rules/{rule_id}")
async def edit_rule(request: Request, rule_id: IdPath, db: SessionDep, console: Viewer) -> Response:
    row = await moderation.get_filter(db, rule_id)
    return await _form(request, db, console, rule_id, values=_values(row))


async def _save_or_preview(
    request: Request,
    db: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    console: Console,
    rule_id: int | None,
) -> Response:
    form = await request.form()
    values, rule, problems = parse(form)
    if rule is None:
        return await _form(request, db, console, rule_id, values=values, error=problems,
                           status_code=422)  # fmt: skip
    await categories.require(db, rule.category)
    intent = form.get("intent")
    if intent == "preview":
        candidate = ContentFilter(id=rule_id, **rule.model_dump())
        result = await preview_rule(db, settings, candidate)
        return await _form(request, db, console, rule_id, values=values, preview=result)
    if rule_id is None:
        row = await moderation.create_filter(db, rule)
    else:
        row = await moderation.update_filter(db, rule_id, FilterUpdate(**rule.model_dump()))
    message = f"Rule {row.name!r} saved."
    if intent == "apply":

        async def apply() -> None:  # after the commit, so that the rerun sees the rule
            await rerun_moderation(database, settings)

        after_commit(db, apply)
        message = f"Rule {row.name!r} saved and applied to every post."
    return back("/admin/rules", message)


@router.post("/admin/rules")
async def create(
    request: Request, db: SessionDep, database: DatabaseDep, settings: SettingsDep,
    console: GlobalEditor,
) -> Response:  # fmt: skip
    return await _save_or_preview(request, db, database, settings, console, None)


@router.post("/admin/rules/apply")
async def apply_all(
    database: DatabaseDep, settings: SettingsDep, console: GlobalEditor
) -> Response:
    result = await rerun_moderation(database, settings)
    return back(
        "/admin/rules", f"Rules applied: {result.changed} of {result.processed} posts changed."
    )


@router.post("/admin/rules/{rule_id}")
async def update(
    request: Request, rule_id: IdPath, db: SessionDep, database: DatabaseDep,
    settings: SettingsDep, console: GlobalEditor,
) -> Response:  # fmt: skip
    await moderation.get_filter(db, rule_id)
    return await _save_or_preview(request, db, database, settings, console, rule_id)


@router.post("/admin/rules/{rule_id}/delete")
async def delete(rule_id: IdPath, db: SessionDep, console: GlobalEditor) -> Response:
    row = await moderation.get_filter(db, rule_id)
    name = row.name
    await moderation.delete_filter(db, rule_id)
    return back(
        "/admin/rules",
        f"Rule {name!r} deleted (posts keep their state until the rules are applied).",
    )
