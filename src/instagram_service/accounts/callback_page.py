"""The page a browser sees at the end of Business Login when it was not started from the
admin console (that one is sent back to the console): connected, or why not, and what to do.

Self-contained (no template, no asset): the callback is the one public page of this domain."""

from __future__ import annotations

from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · instagram-service</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f6}}
main{{max-width:32rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:8px;
box-shadow:0 1px 3px #0002}}
h1{{font-size:1.4rem;margin-top:0}} a{{color:#0b57d0}}
</style></head>
<body><main><h1>{title}</h1><p>{message}</p>
<p><a href="/admin/accounts">Go to the admin console's accounts</a></p></main></body></html>
"""


def wants_html(request: Request) -> bool:
    """A browser navigating here (Instagram's redirect) rather than an API client."""
    return "text/html" in request.headers.get("accept", "")


def callback_page(title: str, message: str, status_code: int) -> HTMLResponse:
    return HTMLResponse(
        PAGE.format(title=escape(title), message=escape(message[:1].upper() + message[1:])),
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
