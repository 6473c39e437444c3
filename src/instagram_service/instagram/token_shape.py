"""What an access token can look like, checked before one is sent anywhere.

Instagram and Facebook tokens are a few hundred URL-safe characters; anything else would
only fail later, in the HTTP client (a 64 KB token overflowed its URL) or at Instagram.
"""

from __future__ import annotations

import re

MAX_TOKEN_CHARS = 2048
_TOKEN_RE = re.compile(r"[A-Za-z0-9._|%-]+")


def token_shape_problem(token: str) -> str | None:
    """Why `token` (already stripped, not empty) cannot be an access token, or None."""
    if len(token) > MAX_TOKEN_CHARS:
        return f"the access token is longer than {MAX_TOKEN_CHARS} characters"
    if not _TOKEN_RE.fullmatch(token):
        return "the access token may hold only letters, digits and . _ - | %"
    return None
