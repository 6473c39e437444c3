"""The website side: the widget script, the server-rendered embed page, the landing page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from instagram_service.deps import DatabaseDep, SessionDep, SettingsDep
from instagram_service.errors import NotFound
from instagram_service.feeds import service as feeds
from instagram_service.feeds.public import allowed_origins, public_feed
from instagram_service.feeds.schemas import SLUG_PATTERN
from instagram_service.posts.http import cached_response, from_cache, public_base
from instagram_service.web.assets import widget

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "embed"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_JS = "text/javascript; charset=utf-8"
EMBED_PAGE_SIZE = 24


@router.get("/widget.js")
async def widget_script(request: Request) -> Response:
    """The web component; short-cached (its hashed name is the long-cached one)."""
    body, _name = widget()
    response = cached_response(request, body, 300, _JS)
    response.headers["Cache-Control"] = "public, max-age=300, stale-while-revalidate=86400"
    return response


@router.get("/widget.{digest}.js")
async def widget_script_immutable(request: Request, digest: str) -> Response:
    body, name = widget()
    if name != f"widget.{digest}.js":
        raise NotFound("no such widget version")
    response = cached_response(request, body, 300, _JS)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@router.get("/embed/{slug}", response_class=HTMLResponse)
async def embed(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    slug: str = PathParam(pattern=SLUG_PATTERN),
    page: int = Query(1, ge=1, le=1000),
    lang: str = Query("en", pattern="^(en|fr)$"),
) -> Response:
    """The feed as a complete HTML page, without JavaScript (iframes, search engines)."""
    base = public_base(request, settings)
    offset = (page - 1) * EMBED_PAGE_SIZE

    async def build() -> bytes:
        async with db.sessionmaker() as session:
            feed = await public_feed(
                session, slug, base, limit=EMBED_PAGE_SIZE, offset=offset, until=None
            )
        html = templates.get_template("embed.html").render(
            feed=feed, page=page, lang=lang, strings=STRINGS[lang], base=base
        )
        return html.encode()

    key = f"embed|{base}|{slug}|{page}|{lang}"
    response = await from_cache(request, db, settings, key, build, "text/html; charset=utf-8")
    # A feed that lists its origins may be framed by those only.
    origins = " ".join(allowed_origins(slug) or ()) or "*"
    response.headers["Content-Security-Policy"] = f"frame-ancestors {origins}"
    return response


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The service's own page: the widget on a sample page, a snippet for each feed."""
    base = public_base(request, settings)
    all_feeds = await feeds.list_feeds(session)
    _body, name = widget()
    html = templates.get_template("landing.html").render(
        feeds=all_feeds, base=base, script=f"{base}/{name}", script_short=f"{base}/widget.js"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


STRINGS = {
    "en": {
        "likes": "likes",
        "comments": "comments",
        "follow": "Follow on Instagram",
        "view": "View on Instagram",
        "older": "Older posts",
        "newer": "Newer posts",
        "followers": "followers",
        "empty": "No posts yet.",
        "pages": "Pages",
    },
    "fr": {
        "likes": "j’aime",
        "comments": "commentaires",
        "follow": "Suivre sur Instagram",
        "view": "Voir sur Instagram",
        "older": "Publications plus anciennes",
        "newer": "Publications plus récentes",
        "followers": "abonnés",
        "empty": "Aucune publication pour l’instant.",
        "pages": "Pages",
    },
}
