"""Graph JSON of emulated objects: `fields` parsing, media and user nodes, cursors, errors."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from instagram_service.emulator.scenario import ScenarioAccount, ScenarioChild, ScenarioMedia

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FieldTree = dict[str, "FieldTree | None"]

MEDIA_FIELDS = {
    "id", "caption", "media_type", "media_product_type", "media_url", "thumbnail_url",
    "permalink", "shortcode", "timestamp", "username", "like_count", "comments_count",
    "is_comment_enabled", "is_shared_to_feed", "alt_text", "children", "owner", "ig_id",
}  # fmt: skip
USER_FIELDS = {
    "id", "user_id", "username", "name", "account_type", "profile_picture_url",
    "followers_count", "follows_count", "media_count", "biography", "website", "ig_id",
}  # fmt: skip


class GraphError(Exception):
    """An error answered in Graph's shape: {"error": {message, type, code, ...}}."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        type_: str = "OAuthException",
        status: int = 400,
        is_transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.subcode = message, code, subcode
        self.type, self.status, self.is_transient = type_, status, is_transient

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err["is_transient"] = self.is_transient
        err["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
        return {"error": err}


def no_object(object_id: str) -> GraphError:
    return GraphError(
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        subcode=33,
        type_="GraphMethodException",
    )


def parse_fields(spec: str | None) -> FieldTree:
    """`id,children{id,media_url}` -> {"id": None, "children": {"id": None, ...}}."""
    if not spec:
        return {"id": None}
    tree, pos = _parse(spec, 0)
    if pos != len(spec):
        raise GraphError(
            f'Syntax error "Expected end of string" at character {pos}',
            2500,
            type_="IGApiException",
        )
    return tree


def _parse(spec: str, pos: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    name = ""
    while pos < len(spec):
        ch = spec[pos]
        if ch == "{":
            sub, pos = _parse(spec, pos + 1)
            if pos >= len(spec) or spec[pos] != "}":
                raise GraphError("Syntax error \"Expected '}'\"", 2500, type_="IGApiException")
            tree[name.strip()] = sub
            name = ""
        elif ch == "}":
            break
        elif ch == ",":
            if name.strip():
                tree[name.strip()] = None
            name = ""
        else:
            name += ch
        pos += 1
    if name.strip():
        tree[name.strip()] = None
    return tree, pos


def _pick(values: dict[str, Any], fields: FieldTree) -> dict[str, Any]:
    # Graph answers `id` on every node, asked for or not.
    out = {k: values[k] for k in fields if k != "children" and values.get(k) is not None}
    out.setdefault("id", values["id"])
    return out


def _check(fields: FieldTree, allowed: set[str], node: str) -> None:
    for name in fields:
        base = name.split(".")[0]
        if base not in allowed:
            raise GraphError(
                f"(#100) Tried accessing nonexisting field ({base}) on node type ({node})", 100
            )


def encode_cursor(media: ScenarioMedia) -> str:
    # Real cursors are base64 of bytes starting "AQH", so they read "QVFI...": so do ours.
    raw = f"AQH{-sort_key(media)[0]}:{media.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The sort key of the media a cursor points at."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, media_id = raw.removeprefix("AQH").split(":")
        return -int(micros), -int(media_id)
    except (ValueError, UnicodeDecodeError):
        raise GraphError("Invalid cursor", 100) from None


def sort_key(media: ScenarioMedia) -> tuple[int, int]:
    """Newest first, then the highest id; exact integers so cursors compare exactly."""
    micros = (media.timestamp - _EPOCH) // timedelta(microseconds=1)
    return -micros, -int(media.id)


Linker = Callable[[str, str, str], str]  # (object id, variant, extension) -> signed CDN URL


def render_child(
    child: ScenarioChild, parent: ScenarioMedia, fields: FieldTree, link: Linker
) -> dict[str, Any]:
    _check(fields, MEDIA_FIELDS, "Media")
    video = child.media_type == "VIDEO"
    values: dict[str, Any] = {
        "id": child.id,
        "media_type": child.media_type,
        "media_url": link(child.id, "n", "mp4" if video else "jpg"),
        "thumbnail_url": link(child.id, "cover", "jpg") if video else None,
        "alt_text": child.alt_text,
        "shortcode": parent.shortcode,
        "timestamp": parent.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }
    return _pick(values, fields)


def render_media(
    media: ScenarioMedia, account: ScenarioAccount, fields: FieldTree, link: Linker
) -> dict[str, Any]:
    _check(fields, MEDIA_FIELDS, "Media")
    video = media.media_type == "VIDEO"
    reel = media.media_product_type == "REELS"
    if media.media_type == "CAROUSEL_ALBUM" and media.children:
        first = media.children[0]
        media_url: str | None = link(first.id, "n", "mp4" if first.media_type == "VIDEO" else "jpg")
    elif video:
        media_url = None if media.media_url_withheld else link(media.id, "n", "mp4")
    else:
        media_url = link(media.id, "n", "jpg")
    values: dict[str, Any] = {
        "id": media.id,
        "ig_id": str(int(media.id) * 7 % 10**19),
        "caption": media.caption,
        "media_type": media.media_type,
        "media_product_type": media.media_product_type,
        "media_url": media_url,
        "thumbnail_url": link(media.id, "cover", "jpg") if video else None,
        "permalink": f"https://www.instagram.com/{'reel' if reel else 'p'}/{media.shortcode}/",
        "shortcode": media.shortcode,
        "timestamp": media.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "username": account.username,
        "like_count": media.like_count,
        "comments_count": media.comments_count,
        "is_comment_enabled": media.is_comment_enabled,
        "is_shared_to_feed": media.is_shared_to_feed if reel else None,
        "alt_text": media.alt_text,
        "owner": {"id": account.user_id},
    }
    out = _pick(values, fields)
    if "children" in fields and media.media_type == "CAROUSEL_ALBUM":
        sub = fields["children"] or {"id": None}
        out["children"] = {"data": [render_child(c, media, sub, link) for c in media.children]}
    return out


def render_user(
    account: ScenarioAccount, fields: FieldTree, link: Linker, media_count: int, *, by_me: bool
) -> dict[str, Any]:
    _check(fields, USER_FIELDS, "User")
    values: dict[str, Any] = {
        # /me answers the app-scoped id; the node read by its own id (Facebook Login) that id.
        "id": (account.id or account.user_id) if by_me else account.user_id,
        "user_id": account.user_id,
        "ig_id": int(account.user_id[-10:]),
        "username": account.username,
        "name": account.name,
        "account_type": account.account_type,
        "profile_picture_url": link(account.user_id, "avatar", "jpg"),
        "followers_count": account.followers_count,
        "follows_count": account.follows_count,
        "media_count": media_count,
        "biography": account.biography,
        "website": account.website,
    }
    return _pick(values, fields)
