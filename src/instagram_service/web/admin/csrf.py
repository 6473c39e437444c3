"""Cross-site request forgery: every console change needs the session's token and a
same-origin request.

Two independent checks, both required: the synchronizer token (a hidden form field or the
`X-CSRF-Token` header of the console's scripts) compared in constant time with the one in
the signed session cookie, and the browser's own word on where the request comes from
(`Sec-Fetch-Site`, else `Origin`), which must be this site. The bearer API is not concerned:
browsers never attach an Authorization header on their own.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from instagram_service.errors import Forbidden
from instagram_service.web.admin.session import AdminSession

HEADER = "x-csrf-token"
FIELD = "csrf_token"


def same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")  # none: typed in the address bar
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or a very old one: the token still has to match
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin == expected


def check(request: Request, session: AdminSession | None, sent: str | None) -> None:
    """Raise 403 unless the request is same-origin and carries the session's token."""
    if not same_origin(request):
        raise Forbidden("cross-site request refused")
    sent = sent or request.headers.get(HEADER)
    if session is None or not sent or not hmac.compare_digest(sent, session.csrf):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")
