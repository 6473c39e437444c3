"""Graph endpoints: /me, /{user}, /{user}/media, /{media}, /{media}/children, token exchange."""

from __future__ import annotations

import bisect
import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from instagram_service.emulator.render import (
    GraphError,
    Linker,
    decode_cursor,
    encode_cursor,
    no_object,
    parse_fields,
    render_child,
    render_media,
    render_user,
)
from instagram_service.emulator.scenario import DAY, ScenarioAccount
from instagram_service.emulator.state import LONG_TOKEN_S, EmulatorState, TokenRecord

DEFAULT_LIMIT, MAX_LIMIT, MAX_LISTED = 25, 100, 10_000
LISTED_PRODUCTS = {"FEED", "REELS"}  # stories and ads never appear in /media


def route_graph(
    state: EmulatorState, record: TokenRecord, path: str, request: Request, base: str
) -> dict[str, Any]:
    parts = [p for p in path.split("/") if p]
    params = request.query_params
    account = state.accounts[record.user_id]
    link = _linker(state, base)
    if parts == ["access_token"]:
        return _exchange(state, record, params.get("grant_type"), params.get("client_secret"))
    if parts == ["refresh_access_token"]:
        return _refresh(state, record, params.get("grant_type"))
    if not parts:
        raise GraphError("Unsupported get request.", 100, type_="GraphMethodException")
    node = parts[0]
    owned = node in ("me", account.user_id, account.id)
    if len(parts) == 1 and owned:
        return render_user(
            account,
            parse_fields(params.get("fields")),
            link,
            len(state.account_media(account.user_id)[0]),
            by_me=node == "me",
        )
    if parts[1:] == ["media"] and owned:
        return _list_media(state, account, request, base, link)
    if parts[1:] == ["accounts"] and node == "me":
        return _pages(account)
    found = state.media_owner(node)
    if found is None or found[0] != account.user_id:
        if len(parts) <= 2 and parts[1:] in ([], ["children"], ["media"]):
            raise no_object(node)
        raise _unknown_path(parts)
    media = found[1]
    fields = parse_fields(params.get("fields"))
    if len(parts) == 1:
        return render_media(media, account, fields, link)
    if parts[1:] == ["children"]:
        return {"data": [render_child(c, media, fields, link) for c in media.children]}
    raise _unknown_path(parts)


def _unknown_path(parts: list[str]) -> GraphError:
    return GraphError(
        f"Unknown path components: /{'/'.join(parts[1:])}", 2500, type_="IGApiException"
    )


def _linker(state: EmulatorState, base: str) -> Linker:
    def link(object_id: str, variant: str, ext: str) -> str:
        folder = {"mp4": "o1/v/t16", "avatar": "v/t51.2885-19"}.get(
            ext if ext == "mp4" else variant, "v/t51.2885-15"
        )
        path = f"/cdn/{folder}/{object_id}_{variant}_n.{ext}"
        return f"{base}{path}?{state.cdn_query(path)}"

    return link


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except ValueError:
        raise GraphError(f"(#100) Param {name} must be an integer", 100) from None


def _list_media(
    state: EmulatorState, account: ScenarioAccount, request: Request, base: str, link: Linker
) -> dict[str, Any]:
    params = request.query_params
    fields = parse_fields(params.get("fields"))
    limit = min(max(_int_param(request, "limit") or DEFAULT_LIMIT, 1), MAX_LIMIT)
    since, until = _int_param(request, "since"), _int_param(request, "until")
    items, keys = state.account_media(account.user_id)
    if since is not None or until is not None:
        pairs = [
            (m, k)
            for m, k in zip(items, keys, strict=True)
            if (since is None or m.timestamp.timestamp() >= since)
            and (until is None or m.timestamp.timestamp() <= until)
        ]
        items, keys = [p[0] for p in pairs], [p[1] for p in pairs]
    items, keys = items[:MAX_LISTED], keys[:MAX_LISTED]
    after, before = params.get("after"), params.get("before")
    start, end = 0, limit
    if after or before:
        cursor = decode_cursor(after or before or "")
        if state.faults.strict_cursors and state.media_owner(str(-cursor[1])) is None:
            raise GraphError("(#100) Invalid cursor: the media it points at is gone", 100)
        if after:
            start = bisect.bisect_right(keys, cursor)
            end = start + limit
        else:
            end = bisect.bisect_left(keys, cursor)
            start = max(0, end - limit)
    window = items[start:end]
    data = [
        render_media(m, account, fields, link)
        for m in window
        if m.media_product_type in LISTED_PRODUCTS
    ]
    if not window:
        return {"data": data}
    paging: dict[str, Any] = {
        "cursors": {"before": encode_cursor(window[0]), "after": encode_cursor(window[-1])}
    }
    keep = {k: v for k, v in params.items() if k not in ("after", "before")}
    url = f"{base}{request.url.path}?"
    if end < len(items):
        paging["next"] = url + urlencode(
            {**keep, "limit": limit, "after": encode_cursor(window[-1])}
        )
    if start > 0:
        paging["previous"] = url + urlencode(
            {**keep, "limit": limit, "before": encode_cursor(window[0])}
        )
    return {"data": data, "paging": paging}


def _pages(account: ScenarioAccount) -> dict[str, Any]:
    page = {"id": account.page_id or f"1{account.user_id}"}
    return {"data": [{**page, "instagram_business_account": {"id": account.user_id}}]}


def _exchange(
    state: EmulatorState, record: TokenRecord, grant_type: str | None, secret: str | None
) -> dict[str, Any]:
    if grant_type != "ig_exchange_token":
        raise GraphError("Unsupported grant_type", 100)
    if not secret or not hmac.compare_digest(secret, state.scenario.app_secret):
        raise GraphError("Error validating client secret.", 101)
    if record.kind != "short":
        raise GraphError("(#100) Only a short-lived token can be exchanged", 100)
    token = state.issue_token(record.user_id, "long")
    return {"access_token": token, "token_type": "bearer", "expires_in": int(LONG_TOKEN_S) - 56}


def _refresh(state: EmulatorState, record: TokenRecord, grant_type: str | None) -> dict[str, Any]:
    if grant_type != "ig_refresh_token":
        raise GraphError("Unsupported grant_type", 100)
    if record.kind != "long":
        raise GraphError("(#100) Only a long-lived token can be refreshed", 100)
    if state.now() - record.issued_at < DAY:
        raise GraphError(
            "(#100) The access token cannot be refreshed: it is less than 24 hours old", 100
        )
    token = state.issue_token(record.user_id, "long")
    return {"access_token": token, "token_type": "bearer", "expires_in": int(LONG_TOKEN_S)}
